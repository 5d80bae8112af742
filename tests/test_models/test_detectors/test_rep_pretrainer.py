"""DITO region-centric pretraining (REP, Sec. 3.2) on two captioned
OVD-Shapes images: per-level contrastive and RPN-centre losses, frozen
image and text towers, and a state dict that initialises the detector."""
import numpy as np
import pytest
import torch
from mmdet.registry import DATASETS, MODELS
from mmdet.utils import register_all_modules
from mmengine.config import Config
from mmengine.dataset import pseudo_collate

import ovd_ext  # noqa: F401
from ovd_ext import shapes
from ovd_ext.models.detectors import rep_pretrainer
from ovd_ext.models.detectors.rep_regions import centre_cells
from ovd_ext.testing import make_shapes
from ovd_ext.vlm import build_clip, embed_vocabulary
from ovd_ext.vlm.class_names import ClassList, with_background

REP = 'configs/dito/dito_tiny-vit_rep_ovd-shapes.py'
DITO = 'configs/dito/mask-rcnn_tiny-vit_simple-fpn_rep-swl-fd_ovd-shapes.py'
NUM_BOXES = (8, 4, 2, 1)
HEADS = ('neck.', 'rpn_head.', 'roi_head.')


@pytest.fixture(scope='module')
def assets(tmp_path_factory):
    root = make_shapes(tmp_path_factory.mktemp('rep_shapes'), num_train=2,
                       num_val=1)
    clip = build_clip('ovd-tiny-vit', 'checkpoints/ovd_shapes/ovd-tiny-vit.pt')
    vocab = str(tmp_path_factory.mktemp('vocab') / 'shapes_bg.npy')
    embed_vocabulary(clip, with_background(ClassList(list(shapes.CLASSES))),
                     vocab, ['a photo of a {}.'])
    return root, vocab


@pytest.fixture(scope='module')
def rep(assets):
    root, vocab = assets
    register_all_modules()
    cfg = Config.fromfile(REP)
    cfg.model.num_boxes = NUM_BOXES
    cfg.model.roi_head.bbox_head.vocabulary = vocab
    ds_cfg = cfg.train_dataloader.dataset
    assert ds_cfg.ann_file.endswith('annotations/captions_train.json')
    ds_cfg.ann_file = root + '/annotations/captions_train.json'
    ds_cfg.data_prefix = dict(img=root + '/images/')
    for t in ds_cfg.pipeline:
        if t.type == 'Resize':
            t.scale = (128, 128)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    np.random.seed(0)
    ds = DATASETS.build(ds_cfg)
    batch = pseudo_collate([ds[0], ds[1]])
    data = model.data_preprocessor(batch, True)
    return cfg, model, data


def run_loss(model, data, monkeypatch):
    """One loss step; returns the losses, the sampled boxes per level and
    the RPN objectness map of each level (with its gradient hook)."""
    boxes, objectness = [], []
    sample = rep_pretrainer.sample_region_boxes

    def recording(*args, **kwargs):
        out = sample(*args, **kwargs)
        boxes.append(out)
        return out

    def keep(module, args, out):
        out.retain_grad()
        objectness.append(out)

    monkeypatch.setattr(rep_pretrainer, 'sample_region_boxes', recording)
    hook = model.rpn_head.rpn_cls.register_forward_hook(keep)
    model.train()
    try:
        losses = model(data['inputs'], data['data_samples'], mode='loss')
    finally:
        hook.remove()
    # two images per level, P2 first
    boxes = [torch.cat(boxes[2 * i:2 * i + 2]) for i in range(4)]
    return losses, boxes, objectness


def test_captions_reach_the_model(rep):
    _, _, data = rep
    assert data['inputs'].shape == (2, 3, 128, 128)
    for sample in data['data_samples']:
        assert isinstance(sample.metainfo['caption'], str)
        assert sample.metainfo['caption']


def test_loss_step(rep, monkeypatch):
    _, model, data = rep
    assert model.num_boxes == NUM_BOXES
    losses, boxes, objectness = run_loss(model, data, monkeypatch)
    levels = ['p2', 'p3', 'p4', 'p5']
    assert set(losses) == {f'loss_contrastive_{p}' for p in levels} | {
        f'loss_rpn_{p}' for p in levels} | {'logit_scale'}
    for key, value in losses.items():
        assert value.shape == () and torch.isfinite(value), key
    # 2 captions: the symmetric InfoNCE lies near log 2 at the start, the
    # L1 to targets in [0, 1] within [0, 1]
    for p in levels:
        assert 0 < losses[f'loss_contrastive_{p}'].item() < 5
        assert 0 <= losses[f'loss_rpn_{p}'].item() <= 1
    # logit scale from the CLIP checkpoint (13.02), capped at 100
    assert losses['logit_scale'].item() == pytest.approx(13.019, abs=1e-2)
    assert [len(b) for b in boxes] == [2 * n for n in NUM_BOXES]
    for b in boxes:
        assert b.min() >= 0 and b.max() <= 128 + 1e-3

    loss, _ = model.parse_losses(losses)
    loss.backward()
    # frozen image and text towers
    for name, p in list(model.backbone.named_parameters()) + list(
            model.clip.named_parameters()):
        assert not p.requires_grad and p.grad is None, name
    # trained heads
    bbox_head = model.roi_head.bbox_head
    trained = [*model.neck.parameters(),
               model.rpn_head.rpn_conv.weight,
               model.rpn_head.rpn_cls.weight,
               bbox_head.shared_fcs[0].weight,
               bbox_head.fc_cls.proj.weight,
               model.logit_scale]
    assert len(trained) > 10
    for p in trained:
        assert p.grad is not None and p.grad.abs().sum() > 0
    # no RPN box regression (nor box deltas) without box labels
    assert model.rpn_head.rpn_reg.weight.grad is None
    assert bbox_head.fc_reg.weight.grad is None
    model.zero_grad(set_to_none=True)


def test_rpn_loss_only_at_roi_centres(rep, monkeypatch):
    _, model, data = rep
    losses, boxes, objectness = run_loss(model, data, monkeypatch)
    assert len(objectness) == 4
    sum(v for k, v in losses.items() if k.startswith('loss_rpn')).backward()
    strides = model.roi_head.bbox_roi_extractor.featmap_strides
    assert strides == [4, 8, 16, 32]
    for lvl, (obj, b) in enumerate(zip(objectness, boxes)):
        n = NUM_BOXES[lvl]
        assert obj.shape[:2] == (2, 3)
        rows, cols = centre_cells(b, strides[lvl], obj.shape[-2:])
        img = torch.arange(2).repeat_interleave(n)
        centres = torch.zeros(2, *obj.shape[-2:], dtype=torch.bool)
        centres[img, rows, cols] = True
        nonzero = obj.grad != 0
        assert torch.equal(nonzero,
                           centres[:, None].expand_as(nonzero)), lvl
    model.zero_grad(set_to_none=True)


def test_state_dict_initialises_the_detector(rep, assets):
    _, model, _ = rep
    state = model.state_dict()
    assert 'logit_scale' in state
    assert all(k == 'logit_scale' or k.startswith(HEADS) for k in state)
    assert not any(k.startswith(('backbone.', 'clip.')) for k in state)
    heads = {k: v for k, v in state.items() if k != 'logit_scale'}
    assert any(k.startswith('roi_head.bbox_head.fc_cls.') for k in heads)

    _, vocab = assets
    register_all_modules()
    cfg = Config.fromfile(DITO)
    cfg.model.roi_head.bbox_head.vocabulary = vocab
    torch.manual_seed(1)
    detector = MODELS.build(cfg.model)
    target = detector.state_dict()
    missing = sorted(set(heads) - set(target))
    assert missing == []
    for k, v in heads.items():
        assert target[k].shape == v.shape, k
    # load_from: the detector's heads take the REP weights
    result = detector.load_state_dict(heads, strict=False)
    assert result.unexpected_keys == []
    assert not set(result.missing_keys) & set(heads)
    after = detector.state_dict()
    for k, v in heads.items():
        assert torch.equal(after[k], v), k
    # the REP model's own round trip
    saved = {k: v.clone() for k, v in state.items()}
    with torch.no_grad():
        model.rpn_head.rpn_cls.weight.zero_()
    model.load_state_dict(saved, strict=True)
    assert torch.equal(model.rpn_head.rpn_cls.weight,
                       saved['rpn_head.rpn_cls.weight'])


def test_no_predict_mode(rep):
    _, model, data = rep
    with pytest.raises(RuntimeError, match='load_from'):
        model(data['inputs'], data['data_samples'], mode='predict')
