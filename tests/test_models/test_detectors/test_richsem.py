"""RichSem with Faster R-CNN on a few OVD-Shapes images (the committed
OVD-Shapes configs, tiny CLIP teacher): soft targets at the ground truth and
at the augmented image's whole-image box (Eq. 2), L_soft on positives (Eq. 4),
the Eq. 7 hard labels and the L_loc switch (Table 3g), and a test graph and
exported weights without the semantic branch."""
import copy

import numpy as np
import pytest
import torch
from mmdet.registry import DATASETS, MODELS
from mmdet.structures.bbox import get_box_tensor
from mmdet.utils import register_all_modules
from mmengine.config import Config
from mmengine.dataset import pseudo_collate

import ovd_ext  # noqa: F401
from ovd_ext import shapes
from ovd_ext.testing import make_shapes
from ovd_ext.utils.train_only import strip_train_only
from ovd_ext.vlm import build_clip, embed_vocabulary
from ovd_ext.vlm.class_names import ClassList

CONFIG = 'configs/richsem/faster-rcnn_r18-narrow_fpn_{}_ovd-shapes-lt.py'
SCALE = (128, 128)


@pytest.fixture(scope='module')
def assets(tmp_path_factory):
    root = make_shapes(tmp_path_factory.mktemp('richsem_shapes'),
                       num_train=4, num_val=1, num_imagelabel=2)
    clip = build_clip('ovd-tiny-rn', 'checkpoints/ovd_shapes/ovd-tiny-rn.pt')
    vocab = str(tmp_path_factory.mktemp('vocab') / 'shapes.npy')
    embed_vocabulary(clip, ClassList(list(shapes.CLASSES)), vocab,
                     ['a photo of a {}.'])
    return root, vocab


def load_cfg(kind: str, assets) -> Config:
    root, vocab = assets
    register_all_modules()
    cfg = Config.fromfile(CONFIG.format(kind))
    m = cfg.model
    m.roi_head.bbox_head.vocabulary = vocab
    m.roi_head.bbox_head.loss_cls.class_frequency = \
        f'{root}/annotations/lvis_v1_train.json'
    if m.get('teacher'):
        m.teacher.vocabulary = vocab
        m.roi_head.semantic_branch.vocabulary = vocab
    m.train_cfg.rpn_proposal.update(nms_pre=200, max_per_img=64)
    m.train_cfg.rcnn.sampler.num = 32
    m.test_cfg.rpn.update(nms_pre=200, max_per_img=50)
    datasets = [cfg.det_train_dataset.dataset]
    if 'image_label_dataset' in cfg:
        datasets.append(cfg.image_label_dataset)
    for ds in datasets:
        ds.data_root = root + '/'
        for t in ds.pipeline:
            if t.type == 'Resize':
                t.scale = SCALE
    return cfg


def build(cfg):
    torch.manual_seed(0)
    model = MODELS.build(copy.deepcopy(cfg.model))
    model.init_weights()
    return model


def batch(model, dataset_cfg, n=2):
    np.random.seed(0)
    ds = DATASETS.build(copy.deepcopy(dataset_cfg))
    return model.data_preprocessor(pseudo_collate([ds[i] for i in range(n)]),
                                   True)


def record_teacher(model):
    seen = []
    model.build_teacher(torch.device('cpu'))
    model.teacher.register_forward_hook(
        lambda m, args, out: seen.append(([b.clone() for b in args[1]], out)))
    return seen


@pytest.fixture(scope='module')
def richsem(assets):
    cfg = load_cfg('richsem', assets)
    return cfg, build(cfg)


def test_detection_batch_soft_loss_on_positives(richsem):
    cfg, model = richsem
    data = batch(model, cfg.det_train_dataset.dataset)
    seen = record_teacher(model)
    losses = model.loss(data['inputs'], data['data_samples'])
    assert len(seen) == 1                     # one teacher pass per batch
    boxes, logits = seen[0]
    for b, s in zip(boxes, data['data_samples']):
        # the tight ground truth
        assert torch.equal(b, get_box_tensor(s.gt_instances.bboxes))
    assert logits.shape == (sum(len(b) for b in boxes), 20)
    assert model.semantic_branch.logit_scale == pytest.approx(
        model.teacher.clip.model.logit_scale.exp().item())
    assert 0 < losses['loss_soft'].item() < 10
    model.zero_grad()
    losses['loss_soft'].backward()
    assert model.roi_head.semantic_branch.fcs[0].weight.grad.abs().sum() > 0
    assert model.roi_head.bbox_head.fc_cls.proj.weight.grad is None or \
        model.roi_head.bbox_head.fc_cls.proj.weight.grad.abs().sum() == 0


def test_image_label_batch_uses_the_augmented_whole_image(richsem):
    cfg, model = richsem
    data = batch(model, cfg.image_label_dataset)
    seen = record_teacher(model)
    for s in data['data_samples']:
        assert s.metainfo['image_label']
        h, w = s.metainfo['img_shape']
        assert get_box_tensor(s.gt_instances.bboxes).tolist() == [
            [0., 0., w, h]]
        assert max(h, w) == 128               # after Resize, not the file's
    losses = model.loss(data['inputs'], data['data_samples'])
    boxes = seen[0][0]
    assert [b.tolist() for b in boxes] == [
        [[0., 0., s.metainfo['img_shape'][1], s.metainfo['img_shape'][0]]]
        for s in data['data_samples']]
    assert losses['loss_soft'].item() > 0 and losses['loss_bbox'].item() >= 0


def test_loc_switch_and_eq7_labels(assets):
    cfg = load_cfg('richsem', assets)
    cfg.model.loc_on_image_labels = False
    cfg.model.hard_label_threshold = 1.0      # no teacher label passes
    model = build(cfg)
    data = batch(model, cfg.image_label_dataset)
    for s in data['data_samples']:            # unlabelled extra data
        s.gt_instances.labels = torch.full_like(s.gt_instances.labels, -1)
    losses = model.loss(data['inputs'], data['data_samples'])
    for s in data['data_samples']:
        g = s.gt_instances
        assert (g.labels >= 0).all()          # the teacher's top class
        assert torch.equal(g.labels, g.soft_logits.argmax(-1))
        assert not g.cls_valid.any() and not g.loc_valid.any()
    assert losses['eq7_hard_label_rate'].item() == 0.0
    assert losses['loss_bbox'].item() == 0.0  # no L_loc on whole images
    assert sum(v.item() for v in losses['loss_rpn_bbox']) == 0.0
    assert losses['loss_soft'].item() > 0     # L_soft always
    model.hard_label_threshold = 0.0          # every teacher label passes
    for s in data['data_samples']:
        s.gt_instances.labels = torch.full_like(s.gt_instances.labels, -1)
    losses = model.loss(data['inputs'], data['data_samples'])
    assert losses['eq7_hard_label_rate'].item() == 1.0


def test_cls_valid_zeroes_classification_of_positives(richsem):
    cfg, model = richsem
    data = batch(model, cfg.image_label_dataset)
    model.attach_soft_targets(data['inputs'], data['data_samples'])
    heads = model.roi_head
    for s in data['data_samples']:
        s.gt_instances.cls_valid[:] = False
    heads._gt_instances = [s.gt_instances for s in data['data_samples']]
    from mmdet.models.task_modules.samplers import SamplingResult
    res = []
    for s in data['data_samples']:
        gt = s.gt_instances
        boxes = get_box_tensor(gt.bboxes)
        priors = torch.cat([boxes, torch.tensor([[0., 0., 8., 8.]])])
        res.append(SamplingResult(
            pos_inds=torch.tensor([0]), neg_inds=torch.tensor([1]),
            priors=priors, gt_bboxes=boxes,
            assign_result=type('A', (), dict(
                gt_inds=torch.tensor([1, 0]),
                labels=torch.cat([gt.labels, torch.tensor([-1])]),
                max_overlaps=torch.tensor([1., 0.])))(),
            gt_flags=torch.zeros(2, dtype=torch.uint8)))
    targets = heads.bbox_head.get_targets(res, heads.train_cfg)
    labels, label_w, _, bbox_w = heads._switch_weights(res, targets)
    assert label_w.tolist() == [0., 1., 0., 1.]   # positives off, negatives on
    assert bbox_w[[0, 2]].abs().sum() > 0          # loc still on here
    heads._gt_instances = None


def test_test_graph_and_exported_weights(assets, richsem):
    cfg, model = richsem
    fresh = build(cfg)
    fresh.load_state_dict(strip_train_only(model.state_dict()))
    fresh.eval()
    called = []
    fresh.roi_head.semantic_branch.register_forward_hook(
        lambda *a: called.append(1))
    root = assets[0]
    test_ds = dict(cfg.test_dataloader.dataset, data_root=root + '/')
    ds = DATASETS.build(test_ds)
    data = fresh.data_preprocessor(pseudo_collate([ds[0]]), False)
    with torch.no_grad():
        out = fresh.predict(data['inputs'], data['data_samples'])
    assert not called and fresh.teacher is None   # never built at test
    # the exported weights are exactly a plain mmdet Faster R-CNN's
    plain_cfg = load_cfg('baseline', assets)
    plain_cfg.model.type = 'FasterRCNN'
    plain_cfg.model.roi_head.type = 'StandardRoIHead'
    plain = build(plain_cfg)
    exported = strip_train_only(model.state_dict())
    assert not any('semantic_branch' in k or k.startswith('teacher')
                   for k in exported)
    result = plain.load_state_dict(exported, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    plain.eval()
    with torch.no_grad():
        ref = plain.predict(data['inputs'], data['data_samples'])
    assert torch.allclose(out[0].pred_instances.scores,
                          ref[0].pred_instances.scores)
