"""DITO configs: every one parses; the real-data ones hold the paper's values
(Sec. 4) read from the parsed config, name local CLIP files only, and agree
with each other (REP heads = detector heads); the official-code config sets
every documented official option; a ViT-B/16 DITO with random weights builds
from the real base config and its REP pretrainer's state dict initialises it."""
from __future__ import annotations

import copy
import functools
import glob
import os.path as osp

import numpy as np
import pytest
from mmdet.registry import MODELS
from mmdet.utils import register_all_modules
from mmengine.config import Config

import ovd_ext  # noqa: F401
from ovd_ext.vlm.vocabulary import save_class_embeddings

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
CFG_DIR = osp.join(ROOT, 'configs', 'dito')
CONFIGS = sorted(osp.basename(p) for p in glob.glob(osp.join(CFG_DIR, '*.py')))
REAL = [c for c in CONFIGS if 'ovd-shapes' not in c]
DETECTORS = [c for c in REAL if c.startswith('mask-rcnn_')]


pytestmark = pytest.mark.usefixtures('fast_mmdet_bases')


@functools.lru_cache(maxsize=None)
def load(name: str) -> Config:
    return Config.fromfile(osp.join(CFG_DIR, name))


def test_every_config_parses():
    assert len(CONFIGS) >= 12
    for name in CONFIGS:
        cfg = load(name)
        assert cfg.model.type in ('DITO', 'RegionCentricPretrainer'), name


@pytest.mark.parametrize('name', DETECTORS)
def test_real_detectors_hold_the_paper_settings(name):
    cfg = load(name)
    m = cfg.model
    assert m.backbone.type == 'WindowedCLIPViT'
    assert m.backbone.num_global == 4
    size = cfg.image_size[0]
    patch = 14 if 'vit-l14' in name else 16
    # K = 4 whole windows per side (Sec. 4: grid 4 x 4)
    assert size // patch == 4 * m.backbone.window_size
    assert m.backbone.shifted is True                      # SWL
    assert m.distill == dict(loss_weight=1.0)              # FD, gamma 1
    assert m.neck.type == 'SimpleFPN' and m.neck.norm_cfg.type == 'LN2d'
    assert m.roi_head.type == 'DITORoIHead'
    assert m.roi_head.beta == 0.65
    assert m.roi_head.bbox_head.bg_embedding == 'text'
    assert cfg.vocabulary_background is True
    assert m.roi_head.bbox_head.vocabulary == cfg.vocabulary
    assert cfg.optim_wrapper.paramwise_cfg.custom_keys.backbone.lr_mult == 0.6
    opt = cfg.optim_wrapper.optimizer
    assert opt.type == 'SGD' and opt.momentum == 0.9
    assert cfg.auto_scale_lr.base_batch_size == 128
    if 'lvis' in name:
        assert (opt.lr, cfg.max_iters) == (0.18, 36800)
    else:
        assert (opt.lr, cfg.max_iters) == (0.02, 11300)
    ckpt = m.backbone.clip.checkpoint
    assert ckpt.startswith('checkpoints/clip/') and cfg.clip.checkpoint == ckpt
    if 'official' in name:
        assert m.backbone.shift_mode == 'official'
        assert (m.roi_head.alpha, m.roi_head.renormalize,
                m.roi_head.rpn_power) == (0.35, True, 3.0)
        assert (m.vlm_source, m.vlm_roi_scale) == ('frozen', 0.7)
        assert m.roi_head.bbox_head.loss_cls.bg_weight == 0.9
    else:
        assert m.backbone.shift_mode == 'paper'
        assert m.roi_head.alpha == 0.3
        assert (m.vlm_source, m.vlm_roi_scale) == ('finetuned', 1.0)
        assert m.roi_head.bbox_head.loss_cls.bg_weight == 1.0


def test_real_rep_holds_the_paper_settings():
    cfg = load('dito_vit-b16_rep_image-text.py')
    m = cfg.model
    assert tuple(m.num_boxes) == (400, 200, 100, 50)
    assert tuple(m.size_range) == (0.2, 0.5)
    assert tuple(m.aspect_range) == (0.5, 2.0)
    assert m.loss_weights == dict(contrastive=1.0, rpn=1.0)
    assert cfg.image_scale == (256, 256)
    assert cfg.optim_wrapper.optimizer.type == 'AdamW'
    assert cfg.optim_wrapper.optimizer.lr == 1e-4
    assert cfg.max_iters == 30000
    assert cfg.auto_scale_lr.base_batch_size == 4096
    assert cfg.train_dataloader.dataset.type == 'CaptionDataset'
    # the heads REP trains are the detector's (load_from initialises them)
    det = load('mask-rcnn_vit-b16_simple-fpn_dito_ov-lvis.py').model
    assert m.neck.in_channels == det.neck.in_channels
    assert m.neck.out_channels == det.neck.out_channels
    head, det_head = m.roi_head.bbox_head, det.roi_head.bbox_head
    assert (head.type, head.fc_out_channels, head.roi_feat_size) == (
        det_head.type, det_head.fc_out_channels, det_head.roi_feat_size)
    assert m.backbone.clip.name == det.backbone.clip.name


def test_rep_state_initialises_the_detector(tmp_path):
    """A random-weight ViT-B/16 REP pretrainer's saved keys all exist in the
    DITO detector built from the real base config, with equal shapes."""
    register_all_modules()
    vocab = str(tmp_path / 'v.npy')
    emb = np.random.RandomState(0).randn(3, 512).astype(np.float32)
    save_class_embeddings(vocab, emb, ['background', 'cat', 'dog'])
    rep = copy.deepcopy(load('dito_vit-b16_rep_image-text.py').model)
    det = copy.deepcopy(
        load('mask-rcnn_vit-b16_simple-fpn_dito_ov-coco.py').model)
    for cfg in (rep, det):
        cfg['backbone']['clip']['checkpoint'] = None
        cfg['roi_head']['bbox_head']['vocabulary'] = vocab
    rep['clip']['checkpoint'] = None
    det['roi_head']['bbox_head']['novel_classes'] = ['dog']
    rep_state = MODELS.build(rep).state_dict()
    det_state = MODELS.build(det).state_dict()
    assert rep_state and not any(k.startswith(('backbone.', 'clip.'))
                                 for k in rep_state)
    shared = [k for k in rep_state if k != 'logit_scale']
    assert all(k in det_state for k in shared), \
        sorted(set(shared) - set(det_state))[:5]
    assert all(rep_state[k].shape == det_state[k].shape for k in shared)
    assert not any(k.startswith('frozen_backbone.') for k in det_state)
