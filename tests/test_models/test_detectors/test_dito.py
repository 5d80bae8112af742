"""DITO detector on a few OVD-Shapes images (tiny ViT CLIP): a training step
with frozen-backbone distillation (Sec. 3.4) and with SWL (Sec. 3.3), a test
step, the saved state, and the Eq. 2 ensemble of the RoI head (Sec. 3.1)."""
import numpy as np
import pytest
import torch
from mmdet.registry import DATASETS, MODELS
from mmdet.structures import DetDataSample
from mmdet.structures.bbox import bbox2roi
from mmdet.utils import register_all_modules
from mmengine.config import Config, ConfigDict
from mmengine.dataset import pseudo_collate

import ovd_ext  # noqa: F401
from ovd_ext import shapes
from ovd_ext.models.layers.score_ensemble import vlm_probabilities
from ovd_ext.testing import make_shapes
from ovd_ext.vlm import build_clip, embed_vocabulary
from ovd_ext.vlm.class_names import ClassList, with_background

CONFIGS = 'configs/dito/mask-rcnn_tiny-vit_simple-fpn_{}_ovd-shapes.py'
SIZE = (128, 128)     # 16 x 16 patches: 2 x 2 windows of 8


@pytest.fixture(scope='module')
def assets(tmp_path_factory):
    """A few OVD-Shapes images and the 'background' + 20 class vocabulary
    of the committed tiny ViT CLIP (one prompt template, for speed)."""
    root = make_shapes(tmp_path_factory.mktemp('dito_shapes'), num_train=6,
                       num_val=1)
    clip = build_clip('ovd-tiny-vit', 'checkpoints/ovd_shapes/ovd-tiny-vit.pt')
    vocab = str(tmp_path_factory.mktemp('vocab') / 'shapes_bg.npy')
    embed_vocabulary(clip, with_background(ClassList(list(shapes.CLASSES))),
                     vocab, ['a photo of a {}.'])
    return root, vocab


def dito_cfg(kind, assets) -> Config:
    root, vocab = assets
    register_all_modules()
    cfg = Config.fromfile(CONFIGS.format(kind))
    cfg.model.roi_head.bbox_head.vocabulary = vocab
    cfg.model.train_cfg.rpn_proposal.update(nms_pre=200, max_per_img=64)
    cfg.model.train_cfg.rcnn.sampler.num = 32
    cfg.model.test_cfg.rpn.update(nms_pre=200, max_per_img=50)
    cfg.model.test_cfg.rcnn.max_per_img = 20
    for loader in ('train_dataloader', 'test_dataloader'):
        ds = cfg[loader].dataset
        ds.data_root = root + '/'
        for t in ds.pipeline:
            if t.type == 'Resize':
                t.scale = SIZE
    return cfg


def build(cfg):
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model


def train_batch(cfg, model):
    np.random.seed(0)
    ds = DATASETS.build(cfg.train_dataloader.dataset)
    assert len(ds) >= 2
    return model.data_preprocessor(pseudo_collate([ds[0], ds[1]]), True)


@pytest.fixture(scope='module')
def fd(assets):
    cfg = dito_cfg('fd', assets)
    model = build(cfg)
    return cfg, model, train_batch(cfg, model)


def test_fd_train_step(fd):
    cfg, model, data = fd
    assert data['inputs'].shape == (2, 3, 128, 128)
    calls = []
    hook = model.frozen_backbone.register_forward_hook(
        lambda *args: calls.append(1))
    model.train()
    assert not model.frozen_backbone.training
    losses = model(**data, mode='loss')
    hook.remove()
    assert len(calls) == 1
    assert {'loss_rpn_cls', 'loss_rpn_bbox', 'loss_cls', 'loss_bbox',
            'loss_mask', 'loss_distill'} <= set(losses)
    for key, value in losses.items():
        values = value if isinstance(value, list) else [value]
        assert all(torch.isfinite(v).all() for v in values), key
    # identity projection and a frozen copy equal to the backbone: no
    # distance to distil yet
    assert abs(losses['loss_distill'].item()) < 1e-5
    loss, _ = model.parse_losses(losses)
    loss.backward()
    blocks = model.backbone.visual.transformer.resblocks
    assert blocks[0].attn.in_proj_weight.grad.abs().sum() > 0
    assert model.roi_head.bbox_head.shared_fcs[0].weight.grad.abs().sum() > 0
    assert all(not p.requires_grad and p.grad is None
               for p in model.frozen_backbone.parameters())
    model.zero_grad()


def test_distillation_loss_after_the_backbone_moves(fd):
    cfg, model, data = fd
    model.train()
    rois = bbox2roi([torch.tensor([[8., 8., 60., 70.], [30., 40., 120., 90.],
                                   [0., 0., 128., 128.]])] * 2)
    with torch.no_grad():
        feats = model.extract_feat(data['inputs'])
        assert float(feats.distill_loss(rois)) < 1e-5
        frozen = model.frozen_backbone.visual.conv1.weight.clone()
        proj = model.vlm_proj.weight
        assert torch.equal(proj[:, :, 0, 0], torch.eye(128))
        # the finetuned backbone drifts; its frozen copy does not
        model.backbone.visual.conv1.weight.mul_(1.5)
    try:
        feats = model.extract_feat(data['inputs'])
        loss = feats.distill_loss(rois)
        assert 1e-3 < loss.item() < 1
        assert torch.equal(model.frozen_backbone.visual.conv1.weight, frozen)
        loss.backward()
        assert model.vlm_proj.weight.grad.abs().sum() > 0
        # gamma scales the loss (Sec. 3.4)
        model.distill_weight = 2.0
        with torch.no_grad():
            twice = feats.distill_loss(rois)
        torch.testing.assert_close(twice, 2 * loss.detach())
    finally:
        model.distill_weight = 1.0
        with torch.no_grad():
            model.backbone.visual.conv1.weight.copy_(frozen)
        model.zero_grad()


def test_fd_test_step(fd, assets):
    cfg, model, _ = fd
    model.eval()
    ds = DATASETS.build(cfg.test_dataloader.dataset)
    calls = []
    hook = model.frozen_backbone.register_forward_hook(
        lambda *args: calls.append(1))
    with torch.no_grad():
        (out, ) = model.test_step(pseudo_collate([ds[0]]))
    hook.remove()
    assert calls == []          # the frozen copy is training-only
    assert isinstance(out, DetDataSample)
    pred = out.pred_instances
    n = len(pred)
    assert 0 < n <= 20
    assert pred.bboxes.shape == (n, 4) and pred.scores.shape == (n, )
    assert pred.labels.dtype == torch.long
    assert int(pred.labels.min()) >= 0 and int(pred.labels.max()) < 20
    assert float(pred.scores.min()) >= 0 and float(pred.scores.max()) <= 1
    h, w = out.ori_shape
    assert pred.masks.shape == (n, h, w)
    assert torch.isfinite(pred.bboxes).all()


def test_state_dict_round_trip(fd):
    _, model, _ = fd
    state = model.state_dict()
    assert not any(k.startswith('frozen_backbone.') for k in state)
    assert 'vlm_proj.weight' in state
    assert any(k.startswith('backbone.visual.transformer.') for k in state)
    saved = {k: v.clone() for k, v in state.items()}
    frozen = model.frozen_backbone.visual.conv1.weight.clone()
    with torch.no_grad():
        model.rpn_head.rpn_conv.weight.zero_()
        model.vlm_proj.weight.zero_()
    model.load_state_dict(saved, strict=True)
    assert torch.equal(model.rpn_head.rpn_conv.weight,
                       saved['rpn_head.rpn_conv.weight'])
    assert torch.equal(model.vlm_proj.weight, saved['vlm_proj.weight'])
    assert torch.equal(model.frozen_backbone.visual.conv1.weight, frozen)


def test_swl_train_step(assets):
    cfg = dito_cfg('swl', assets)
    model = build(cfg)
    assert model.backbone.shifted and model.backbone.shift == 4
    assert model.backbone.shift_mode == 'paper'
    assert model.frozen_backbone is None
    data = train_batch(cfg, model)
    model.train()
    losses = model(**data, mode='loss')
    assert 'loss_distill' not in losses
    loss, _ = model.parse_losses(losses)
    assert torch.isfinite(loss)
    loss.backward()
    blocks = model.backbone.visual.transformer.resblocks
    assert blocks[0].attn.in_proj_weight.grad.abs().sum() > 0


def test_roi_head_ensemble(fd):
    cfg, model, data = fd
    model.eval()
    head = model.roi_head
    assert head.novel_mask().tolist() == [
        c in shapes.NOVEL_CLASSES for c in shapes.CLASSES]
    assert (head.alpha, head.beta) == (0.3, 0.65)
    metas = [s.metainfo for s in data['data_samples']]
    with torch.no_grad():
        feats = model.extract_feat(data['inputs'])
        rpn = model.rpn_head.predict(feats, data['data_samples'],
                                     rescale=False)
        test_cfg = head.test_cfg

        def predict(**options):
            saved = {k: getattr(head, k) for k in options}
            for k, v in options.items():
                setattr(head, k, v)
            try:
                return head.predict_bbox(feats, metas, rpn, test_cfg)
            finally:
                for k, v in saved.items():
                    setattr(head, k, v)

        plain = predict(ensemble=False)
        # the OVD-Shapes configs turn the ensemble off at test time
        ones = predict(ensemble=True, alpha=1.0, beta=1.0)
        paper = predict(ensemble=True)
    assert all(len(r) > 0 for r in plain)
    for a, b in zip(plain, ones):
        assert torch.equal(a.bboxes, b.bboxes)
        assert torch.equal(a.scores, b.scores)
        assert torch.equal(a.labels, b.labels)
    assert any(len(a) != len(c) or not torch.allclose(a.scores, c.scores)
               for a, c in zip(plain, paper))


def test_roi_head_vlm_scores(fd):
    # alpha = beta = 0: the class scores are the VLM probabilities of the
    # proposals, softmax(cos(RoIAlign on the ViT map, text) / T), T the
    # CLIP's own temperature (1 / its logit scale)
    cfg, model, data = fd
    model.eval()
    head = model.roi_head
    metas = [s.metainfo for s in data['data_samples']]
    keep_all = ConfigDict(score_thr=0.0, max_per_img=100000,
                          nms=dict(type='nms', iou_threshold=1.0))
    with torch.no_grad():
        feats = model.extract_feat(data['inputs'])
        rpn = model.rpn_head.predict(feats, data['data_samples'],
                                     rescale=False)
        rpn = [r[:10] for r in rpn]
        head.alpha = head.beta = 0.0
        head.ensemble = True
        try:
            results = head.predict_bbox(feats, metas, rpn, keep_all)
        finally:
            head.alpha, head.beta = 0.3, 0.65
            head.ensemble = False
        text = head.bbox_head.fc_cls.class_embeddings
        assert text.shape == (20, 128)
        rois = bbox2roi([r.bboxes for r in rpn])
        temperature = 1.0 / model.backbone.logit_scale
        assert head.vlm_temperature == pytest.approx(temperature)
        z = vlm_probabilities(feats.vlm_embed(rois), text, temperature)
    for i, res in enumerate(results):
        expected = z[rois[:, 0] == i].flatten()
        expected = expected[expected > 0].sort(descending=True).values
        assert len(res) == len(expected) > 0
        torch.testing.assert_close(res.scores, expected, atol=1e-6,
                                   rtol=1e-5)


def test_vlm_roi_scale_shrinks_rois_about_their_centres(fd):
    """Official option: VLM RoIs scaled by 0.7 about their centres give
    the embeddings of the hand-shrunk boxes at scale 1."""
    cfg, model, data = fd
    model.eval()
    rois = torch.tensor([[0., 10., 20., 70., 60.], [1., 0., 0., 50., 40.]])
    cx, cy = (rois[:, 1] + rois[:, 3]) / 2, (rois[:, 2] + rois[:, 4]) / 2
    w, h = rois[:, 3] - rois[:, 1], rois[:, 4] - rois[:, 2]
    shrunk = torch.stack([rois[:, 0], cx - 0.35 * w, cy - 0.35 * h,
                          cx + 0.35 * w, cy + 0.35 * h], 1)
    with torch.no_grad():
        model.vlm_roi_scale = 0.7
        try:
            scaled = model.extract_feat(data['inputs']).vlm_embed(rois)
        finally:
            model.vlm_roi_scale = 1.0
        feats = model.extract_feat(data['inputs'])
        expected = feats.vlm_embed(shrunk)
        plain = feats.vlm_embed(rois)
    torch.testing.assert_close(scaled, expected, atol=1e-6, rtol=1e-5)
    assert not torch.allclose(scaled, plain, atol=1e-3)
