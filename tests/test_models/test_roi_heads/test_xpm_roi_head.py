"""XPM's robust student (Sec. 3.2.4) built from the OVD-Shapes configs:
the captioned-image losses L_X^alpha and L_M of XPMRoIHead.caption_loss
(gradients, the Eq. 7 weighting, the BCE ablation) and XPMMaskRCNN's batch
routing and frozen modules."""
import math

import numpy as np
import pytest
import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmdet.structures.mask import BitmapMasks
from mmdet.utils import register_all_modules
from mmengine.config import Config
from mmengine.structures import InstanceData

import ovd_ext  # noqa: F401
from ovd_ext import shapes

XPM_CFG = 'configs/xpm/mask-rcnn_r18-narrow_fpn_xpm_ovd-shapes.py'
BCE_CFG = 'configs/xpm/mask-rcnn_r18-narrow_fpn_xpm-bce_ovd-shapes.py'
CLASSES = list(shapes.CLASSES)          # 20 classes = the caption words
SIZE = 64


def softplus(x: float) -> float:
    return math.log1p(math.exp(x))


def build(path, vocab):
    """The student of ``path`` over a 20-word random vocabulary (used both
    as the detector's classes and as the caption vocabulary V_C)."""
    register_all_modules()
    cfg = Config.fromfile(path)
    # `caption_vocabulary = {{_base_.vocabulary}}` is resolved when the
    # config is read: both paths are set
    cfg.model.roi_head.bbox_head.vocabulary = vocab
    cfg.model.roi_head.caption_vocabulary = vocab
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model.train()


@pytest.fixture
def vocab(vocab_factory):
    return vocab_factory(CLASSES, dim=16)


def full(value):
    return np.full((SIZE, SIZE), value, np.uint8)


def sample(img_id, boxes, labels, masks, caption=True):
    meta = dict(img_id=img_id, img_shape=(SIZE, SIZE), ori_shape=(SIZE, SIZE),
                pad_shape=(SIZE, SIZE), batch_input_shape=(SIZE, SIZE),
                scale_factor=(1.0, 1.0))
    if caption:
        meta['caption_pseudo'] = True
    s = DetDataSample(metainfo=meta)
    s.gt_instances = InstanceData(
        bboxes=torch.tensor(boxes, dtype=torch.float32),
        labels=torch.tensor(labels, dtype=torch.long),
        masks=BitmapMasks(np.stack(masks), SIZE, SIZE))
    return s


def caption_batch():
    """Image 0: 'star' (word 3) with a mask covering its whole box; image 1:
    'ring' (word 7) with an empty mask."""
    return [sample(0, [[8, 8, 40, 40]], [CLASSES.index('star')], [full(1)]),
            sample(1, [[20, 10, 60, 50]], [CLASSES.index('ring')],
                   [full(0)])]


def gt_batch():
    tri, cup = CLASSES.index('triangle'), CLASSES.index('cup')
    box = np.zeros((SIZE, SIZE), np.uint8)
    box[8:40, 8:40] = 1
    return [sample(0, [[8, 8, 40, 40]], [tri], [box], caption=False),
            sample(1, [[4, 20, 50, 60]], [cup], [full(1)], caption=False)]


def inputs():
    torch.manual_seed(1)
    return torch.randn(2, 3, SIZE, SIZE)


def caption_losses(model, batch=None):
    x = model.extract_feat(inputs())
    return model.roi_head.caption_loss(x, batch or caption_batch())


def set_noise(model, variance):
    """g_Noise outputs log(variance) everywhere: alpha = eta / variance."""
    conv = model.roi_head.mask_head.noise_head.conv
    with torch.no_grad():
        conv.weight.zero_()
        conv.bias.fill_(math.log(variance))


def set_mask_logits(model, value):
    conv = model.roi_head.mask_head.conv_logits
    with torch.no_grad():
        conv.weight.zero_()
        conv.bias.fill_(value)


def same_word_embeddings(model):
    """Every word of V_C the same embedding: all logits equal, so each
    object's cross-modal CE over the 20 words is log(20)."""
    rh = model.roi_head
    rh.word_embeddings = torch.nn.functional.normalize(
        torch.ones_like(rh.word_embeddings), dim=1)


# -------------------------------------------------------------- (a) keys
def test_caption_loss_returns_both_losses(vocab):
    model = build(XPM_CFG, vocab)
    rh = model.roi_head
    assert rh.noise and rh.eta == 0.01 and rh.caption_words == CLASSES
    losses = caption_losses(model)
    assert set(losses) == {'loss_xpm_x', 'loss_xpm_mask', 'xpm_alpha',
                           'xpm_noise'}
    for key in ('loss_xpm_x', 'loss_xpm_mask'):
        assert losses[key].ndim == 0 and torch.isfinite(losses[key])
        assert losses[key].requires_grad
    # only the losses are summed into the objective
    total, log = model.parse_losses(losses)
    torch.testing.assert_close(total,
                               losses['loss_xpm_x'] + losses['loss_xpm_mask'])
    assert 'xpm_alpha' in log


# ----------------------------------------------------------- (b) gradients
def _grad_sum(params):
    return sum(float(p.grad.abs().sum()) for p in params
               if p.grad is not None)


def test_cross_modal_loss_does_not_train_the_noise_head(vocab):
    model = build(XPM_CFG, vocab)
    rh = model.roi_head
    caption_losses(model)['loss_xpm_x'].backward()
    assert _grad_sum(rh.mask_head.noise_head.parameters()) == 0
    assert _grad_sum(rh.mask_head.parameters()) == 0
    # it trains the student embedding head g_Emb
    assert rh.bbox_head.fc_cls.proj.weight.grad.abs().sum() > 0
    assert rh.bbox_head.shared_fcs[0].weight.grad.abs().sum() > 0


def test_mask_loss_trains_mask_logits_and_noise_head(vocab):
    model = build(XPM_CFG, vocab)
    rh = model.roi_head
    torch.manual_seed(0)
    caption_losses(model)['loss_xpm_mask'].backward()
    for p in (rh.mask_head.noise_head.conv.weight,
              rh.mask_head.noise_head.conv.bias,
              rh.mask_head.conv_logits.weight, rh.mask_head.conv_logits.bias):
        assert p.grad is not None and p.grad.abs().sum() > 0
    assert _grad_sum(rh.bbox_head.parameters()) == 0


# ------------------------------------------------------ (c) alpha weighting
@pytest.mark.parametrize('variance', [4.0, 0.5])
def test_alpha_is_eta_over_the_mean_variance(vocab, variance):
    model = build(XPM_CFG, vocab)
    set_noise(model, variance)
    same_word_embeddings(model)
    losses = caption_losses(model)
    alpha = 0.01 / variance
    assert losses['xpm_alpha'].item() == pytest.approx(alpha, rel=1e-5)
    assert losses['xpm_noise'].item() == pytest.approx(variance, rel=1e-5)
    assert not losses['xpm_alpha'].requires_grad
    # L_X^alpha = alpha * CE, CE = log |V_C| = log 20 for every object
    assert losses['loss_xpm_x'].item() == pytest.approx(alpha * math.log(20),
                                                        rel=1e-5)


def test_alpha_scales_the_cross_modal_loss(vocab):
    model = build(XPM_CFG, vocab)
    set_noise(model, 8.0)
    weighted = caption_losses(model)['loss_xpm_x']
    model.roi_head.noise = False        # same weights, alpha = 1
    plain = caption_losses(model)
    assert plain['xpm_alpha'].item() == 1.0
    torch.testing.assert_close(weighted, plain['loss_xpm_x'] * 0.01 / 8.0)
    model.roi_head.loss_x_weight = 2.0
    torch.testing.assert_close(caption_losses(model)['loss_xpm_x'],
                               plain['loss_xpm_x'] * 2)


def test_cross_modal_loss_is_the_ce_over_the_caption_vocabulary(vocab):
    """Eq. 3 by hand: softmax over the 20 words of V_C, logit scale 50."""
    model = build(BCE_CFG, vocab)
    rh = model.roi_head
    batch = caption_batch()
    x = model.extract_feat(inputs())
    losses = rh.caption_loss(x, batch)
    from mmdet.structures.bbox import bbox2roi
    rois = bbox2roi([s.gt_instances.bboxes for s in batch])
    emb = rh.bbox_head.region_embeddings(
        rh.bbox_roi_extractor(x[:rh.bbox_roi_extractor.num_inputs], rois))
    words = torch.from_numpy(np.load(vocab)).float()
    words = words / words.norm(dim=1, keepdim=True)
    logits = 50.0 * emb @ words.t()
    assert logits.shape == (2, 20)
    labels = torch.tensor([3, 7])
    expected = -(logits.log_softmax(1)[[0, 1], labels]).mean()
    torch.testing.assert_close(losses['loss_xpm_x'], expected)


# ------------------------------------------------- (d) Eq. 5 vs Eq. 6 masks
def test_bce_student_has_alpha_one_and_plain_bce(vocab):
    model = build(BCE_CFG, vocab)
    rh = model.roi_head
    assert rh.noise is False and not hasattr(rh.mask_head, 'noise_head')
    set_mask_logits(model, 1.0)
    losses = caption_losses(model)
    assert losses['xpm_alpha'].item() == 1.0
    assert losses['xpm_noise'].item() == 0.0
    # logit 1 on a full pseudo mask and on an empty one: the mean of
    # BCE(1 | 1) = softplus(-1) and BCE(0 | 1) = softplus(1)
    assert losses['loss_xpm_mask'].item() == pytest.approx(
        (softplus(-1) + softplus(1)) / 2, abs=1e-6)
    # logit 0: log 2 whatever the targets
    set_mask_logits(model, 0.0)
    assert caption_losses(model)['loss_xpm_mask'].item() == pytest.approx(
        math.log(2), abs=1e-6)
    # unweighted L_X with alpha = 1
    same_word_embeddings(model)
    assert caption_losses(model)['loss_xpm_x'].item() == pytest.approx(
        math.log(20), rel=1e-5)


def test_noise_free_eq6_is_the_plain_bce(vocab):
    model = build(XPM_CFG, vocab)
    set_mask_logits(model, 1.0)
    set_noise(model, math.exp(-80.0))        # variance ~0: eps ~ 0
    torch.manual_seed(0)
    loss = caption_losses(model)['loss_xpm_mask']
    assert loss.item() == pytest.approx((softplus(-1) + softplus(1)) / 2,
                                        abs=1e-6)
    # with noise the sampled loss differs
    set_noise(model, 4.0)
    torch.manual_seed(0)
    noisy = caption_losses(model)['loss_xpm_mask']
    assert abs(noisy.item() - loss.item()) > 1e-3


def test_caption_loss_checks_the_word_labels(vocab):
    model = build(XPM_CFG, vocab)
    bad = caption_batch()
    bad[1].gt_instances.labels = torch.tensor([20])
    with pytest.raises(ValueError, match='outside the caption vocabulary'):
        caption_losses(model, bad)
    empty = caption_batch()
    for d in empty:
        d.gt_instances = InstanceData(
            bboxes=torch.zeros(0, 4), labels=torch.zeros(0, dtype=torch.long),
            masks=BitmapMasks(np.zeros((0, SIZE, SIZE), np.uint8), SIZE,
                              SIZE))
    losses = caption_losses(model, empty)
    assert losses['loss_xpm_x'].item() == 0.0
    assert losses['loss_xpm_mask'].item() == 0.0


# ------------------------------------------------------ (e) batch routing
def test_detector_routes_batches_by_source(vocab):
    model = build(XPM_CFG, vocab)
    losses = model.loss(inputs(), caption_batch())
    assert set(losses) == {'loss_xpm_x', 'loss_xpm_mask', 'xpm_alpha',
                           'xpm_noise'}
    assert not any('rpn' in k for k in losses) and 'loss_cls' not in losses
    torch.manual_seed(0)
    gt = model.loss(inputs(), gt_batch())
    assert {'loss_rpn_cls', 'loss_rpn_bbox', 'loss_cls', 'acc', 'loss_bbox',
            'loss_mask'} <= set(gt)
    assert not any(k.startswith('loss_xpm') for k in gt)
    total, _ = model.parse_losses(gt)
    assert torch.isfinite(total)
    mixed = [caption_batch()[0], gt_batch()[1]]
    with pytest.raises(ValueError, match='mixes captioned and ground-truth'):
        model.loss(inputs(), mixed)
    # caption_pseudo=False is a ground-truth image
    assert model.is_caption_batch(gt_batch()) is False
    s = gt_batch()
    for d in s:
        d.set_metainfo(dict(caption_pseudo=False))
    assert model.is_caption_batch(s) is False
    assert model.is_caption_batch(caption_batch()) is True


# ------------------------------------------------------- (f) frozen parts
def test_backbone_neck_and_rpn_are_frozen(vocab):
    model = build(XPM_CFG, vocab)
    assert model.frozen_modules == ('backbone', 'neck', 'rpn_head')
    for name in model.frozen_modules:
        part = getattr(model, name)
        assert all(not p.requires_grad for p in part.parameters())
        assert not part.training
        assert all(not m.training for m in part.modules())
    model.train()
    assert model.training and model.roi_head.training
    assert model.roi_head.mask_head.noise_head.training
    bns = [m for m in model.backbone.modules()
           if isinstance(m, torch.nn.BatchNorm2d)]
    assert bns and all(not m.training for m in bns)
    assert not model.neck.training and not model.rpn_head.training
    assert all(p.requires_grad for p in model.roi_head.parameters())
    # BatchNorm statistics do not move in a training step
    mean = bns[0].running_mean.clone()
    losses = model.loss(inputs(), caption_batch())
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    torch.testing.assert_close(bns[0].running_mean, mean)
    assert all(p.grad is None for p in model.backbone.parameters())
    # a GT batch does not move them either
    model.loss(inputs(), gt_batch())
    torch.testing.assert_close(bns[0].running_mean, mean)


def test_unknown_frozen_module_is_refused(vocab):
    register_all_modules()
    cfg = Config.fromfile(XPM_CFG)
    cfg.model.roi_head.bbox_head.vocabulary = vocab
    cfg.model.roi_head.caption_vocabulary = vocab
    cfg.model.frozen_modules = ('backbone', 'head')
    with pytest.raises(ValueError, match=r"\['head'\]"):
        MODELS.build(cfg.model)


def test_softmax_over_the_image_caption_words(vocab):
    """``softmax_over='image'``: with identical word embeddings the CE of
    an object is log(k), k = the words of its image (its own included);
    the default softmax is over all 20 words of V_C."""
    model = build(BCE_CFG, vocab)
    same_word_embeddings(model)
    batch = caption_batch()
    star, ring, cup = (CLASSES.index(n) for n in ('star', 'ring', 'cup'))
    batch[0].set_metainfo(dict(caption_words=[star, ring, cup]))
    batch[1].set_metainfo(dict(caption_words=[ring]))
    assert caption_losses(model, batch)['loss_xpm_x'].item() == \
        pytest.approx(math.log(20), rel=1e-5)
    model.roi_head.softmax_over = 'image'
    # image 0: log 3, image 1: only its own word, log 1 = 0
    assert caption_losses(model, batch)['loss_xpm_x'].item() == \
        pytest.approx(math.log(3) / 2, rel=1e-5)
    del batch[1].caption_words
    with pytest.raises(KeyError, match='caption_words'):
        caption_losses(model, batch)
    with pytest.raises(ValueError, match='softmax_over'):
        cfg = Config.fromfile(BCE_CFG)
        cfg.model.roi_head.bbox_head.vocabulary = vocab
        cfg.model.roi_head.caption_vocabulary = vocab
        cfg.model.roi_head.softmax_over = 'batch'
        MODELS.build(cfg.model)
