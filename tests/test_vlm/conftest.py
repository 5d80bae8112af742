"""Tiny random-weight CLIPs shared by the ovd_ext.vlm tests (no downloads)."""
import pytest
import torch

from ovd_ext.vlm import build_clip


def _build(name: str):
    torch.manual_seed(0)
    return build_clip(name, None)


@pytest.fixture(scope='session')
def tiny_rn():
    return _build('ovd-tiny-rn')


@pytest.fixture(scope='session')
def tiny_vit():
    return _build('ovd-tiny-vit')


@pytest.fixture(scope='session')
def tiny_vit_ckpt(tmp_path_factory, tiny_vit):
    """The random ovd-tiny-vit saved like a shipped tiny checkpoint (fp16)."""
    path = tmp_path_factory.mktemp('ckpt') / 'ovd-tiny-vit.pt'
    torch.save({k: v.half() for k, v in tiny_vit.model.state_dict().items()},
               path)
    return str(path)
