"""Shared fixtures: small vocabulary files written to a temp dir; fast
config loading (``fast_mmdet_bases``)."""
from __future__ import annotations

import numpy as np
import pytest

from ovd_ext.vlm.vocabulary import save_class_embeddings


def make_vocabulary(path, classes, dim: int = 16, seed: int = 0) -> str:
    """Write a random unit-norm vocabulary for ``classes`` and return its path."""
    rng = np.random.default_rng(seed)
    save_class_embeddings(str(path), rng.normal(size=(len(classes), dim)),
                          classes, model='random', prompts='none')
    return str(path)


@pytest.fixture
def vocab_factory(tmp_path):
    """Call with (classes, dim=16, name='vocab.npy') to get a vocabulary path."""
    def factory(classes, dim: int = 16, name: str = 'vocab.npy', seed: int = 0):
        return make_vocabulary(tmp_path / name, classes, dim, seed)
    return factory


@pytest.fixture(scope='module')
def fast_mmdet_bases():
    """mmengine looks every ``mmdet::`` path up in mmdet's ~200 metafiles
    before trying it as a base file (seconds per config on a busy CPU);
    ``_base_/`` files are never in the metafiles, so skip the lookup. Config
    test modules use it with
    ``pytestmark = pytest.mark.usefixtures('fast_mmdet_bases')``."""
    from mmengine.config import config as mmengine_config
    original = mmengine_config._get_external_cfg_path

    def lookup(package_path: str, cfg_file: str) -> str:
        if cfg_file.startswith('_base_/'):
            raise ValueError(cfg_file)   # -> the base-file path
        return original(package_path, cfg_file)
    mmengine_config._get_external_cfg_path = lookup
    yield
    mmengine_config._get_external_cfg_path = original
