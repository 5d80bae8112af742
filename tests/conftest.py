"""Shared fixtures: small vocabulary files written to a temp dir."""
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
