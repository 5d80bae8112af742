"""Tiny random-weight CLIPs shared by the ovd_ext.vlm tests (no downloads)."""
import pytest
import torch

from ovd_ext.testing import random_clip


@pytest.fixture(scope='session')
def tiny_rn():
    return random_clip('ovd-tiny-rn')


@pytest.fixture(scope='session')
def tiny_vit():
    return random_clip('ovd-tiny-vit')


@pytest.fixture(scope='session')
def tiny_vit_ckpt(tmp_path_factory, tiny_vit):
    """The random ovd-tiny-vit saved like a shipped tiny checkpoint (fp16)."""
    path = tmp_path_factory.mktemp('ckpt') / 'ovd-tiny-vit.pt'
    torch.save({k: v.half() for k, v in tiny_vit.model.state_dict().items()},
               path)
    return str(path)


@pytest.fixture(scope='session')
def tiny_rn_ckpt(tmp_path_factory, tiny_rn):
    """The random ovd-tiny-rn saved as an fp32 state dict."""
    path = tmp_path_factory.mktemp('ckpt') / 'ovd-tiny-rn.pt'
    torch.save(tiny_rn.model.state_dict(), path)
    return str(path)
