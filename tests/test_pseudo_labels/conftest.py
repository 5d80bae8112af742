"""Shared fixtures for the VL-PLM tests: a tiny random CLIP, a few OVD-Shapes
images and a randomly initialised class-agnostic proposal generator."""
from __future__ import annotations

import os.path as osp
import warnings

import pytest
import torch

ROOT = osp.join(osp.dirname(__file__), '..', '..')
SHAPES_PROPOSAL_CFG = osp.join(
    ROOT, 'configs', 'vl_plm',
    'mask-rcnn_r18-narrow_fpn_class-agnostic_ovd-shapes-base.py')


@pytest.fixture(scope='session')
def proposal_cfg():
    """Path of the OVD-Shapes class-agnostic proposal generator config."""
    return SHAPES_PROPOSAL_CFG


@pytest.fixture(scope='session')
def tiny_clip():
    from ovd_ext.vlm import build_clip
    torch.manual_seed(0)
    return build_clip('ovd-tiny-vit', None)


@pytest.fixture(scope='session')
def tiny_rn_clip():
    from ovd_ext.vlm import build_clip
    torch.manual_seed(0)
    return build_clip('ovd-tiny-rn', None)


@pytest.fixture(scope='session')
def shapes_root(tmp_path_factory):
    """Three OVD-Shapes training images (and one val), COCO/LVIS jsons."""
    from ovd_ext.shapes import generate_ovd_shapes
    root = tmp_path_factory.mktemp('shapes')
    with warnings.catch_warnings():     # "too few images for LVIS groups"
        warnings.simplefilter('ignore')
        generate_ovd_shapes(str(root), num_train=3, num_val=1,
                            num_imagelabel=0, seed=5, progress=False)
    return str(root)


@pytest.fixture(scope='session')
def proposal_generator():
    """The OVD-Shapes class-agnostic proposal generator, random weights."""
    import ovd_ext.datasets.transforms  # noqa: F401  (ClassAgnosticLabels)
    from ovd_ext.pseudo_labels.vl_plm import load_proposal_generator
    torch.manual_seed(0)
    return load_proposal_generator(SHAPES_PROPOSAL_CFG, None)
