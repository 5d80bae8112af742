"""RichSem on DINO (Table 1's detector): a small DINO (mmdet's 4-scale
config, shrunk) with the teacher and the semantic branch trains a step; the
matched / denoising query bookkeeping and the loss switches by hand."""
import copy
import os.path as osp

import mmdet
import pytest
import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmdet.utils import register_all_modules
from mmengine.config import Config
from mmengine.structures import InstanceData

import ovd_ext  # noqa: F401
from ovd_ext.models.dense_heads import RichSemDINOHead
from ovd_ext.vlm import build_clip, embed_vocabulary
from ovd_ext.vlm.class_names import ClassList

CLASSES = ['circle', 'square', 'star', 'ring', 'house']


@pytest.fixture(scope='module')
def dino_cfg(tmp_path_factory):
    clip = build_clip('ovd-tiny-rn', 'checkpoints/ovd_shapes/ovd-tiny-rn.pt')
    vocab = str(tmp_path_factory.mktemp('vocab') / 'v.npy')
    embed_vocabulary(clip, ClassList(CLASSES), vocab, ['a photo of a {}.'])
    register_all_modules()
    cfg = Config.fromfile(osp.join(osp.dirname(mmdet.__file__), '.mim',
                                   'configs', 'dino',
                                   'dino-4scale_r50_8xb2-12e_coco.py'))
    m = copy.deepcopy(cfg.model)
    m.type = 'RichSemDINO'
    m.num_queries = 30
    m.test_cfg.max_per_img = 20
    m.backbone.update(depth=18, init_cfg=None, frozen_stages=-1,
                      norm_cfg=dict(type='BN', requires_grad=True))
    m.neck.in_channels = [128, 256, 512]
    m.encoder.num_layers = 1
    m.decoder.num_layers = 2
    m.dn_cfg.group_cfg.num_dn_queries = 8
    m.bbox_head.update(type='RichSemDINOHead', num_classes=len(CLASSES),
                       semantic_branch=dict(type='SemanticBranch',
                                            in_channels=256,
                                            vocabulary=vocab, num_fcs=2,
                                            fc_channels=64))
    m.teacher = dict(type='CLIPSoftLabelTeacher',
                     clip=dict(name='ovd-tiny-rn',
                               checkpoint='checkpoints/ovd_shapes/'
                                          'ovd-tiny-rn.pt'),
                     vocabulary=vocab, layer='layer3')
    return m


def samples(image_label=False):
    out = []
    for i, (h, w) in enumerate([(96, 128), (128, 96)]):
        s = DetDataSample(metainfo=dict(img_shape=(h, w), pad_shape=(128, 128),
                                        batch_input_shape=(128, 128),
                                        scale_factor=(1., 1.),
                                        image_label=image_label))
        boxes = (torch.tensor([[0., 0., w, h]]) if image_label else
                 torch.tensor([[10., 10., 50., 60.], [40., 30., 90., 90.]]))
        s.gt_instances = InstanceData(
            bboxes=boxes, labels=torch.arange(len(boxes)) + i)
        out.append(s)
    return out


def test_dino_train_step_with_soft_loss(dino_cfg):
    torch.manual_seed(0)
    model = MODELS.build(copy.deepcopy(dino_cfg))
    model.init_weights()
    model.train()
    inputs = torch.randn(2, 3, 128, 128)
    losses = model.loss(inputs, samples())
    assert 0 < losses['loss_soft'].item() < 20
    assert 'loss_cls' in losses and 'd0.loss_cls' in losses
    branch = model.bbox_head.semantic_branch
    model.zero_grad()
    losses['loss_soft'].backward()
    assert branch.fcs[0].weight.grad.abs().sum() > 0
    # the decoder states get the soft-label gradient (H_soft refines O)
    assert any(p.grad is not None and p.grad.abs().sum() > 0
               for p in model.decoder.parameters())
    # inference is DINO's: no branch, no teacher pass
    called = []
    branch.register_forward_hook(lambda *a: called.append(1))
    model.eval()
    fresh = MODELS.build(copy.deepcopy(dino_cfg))
    fresh.eval()
    with torch.no_grad():
        out = fresh.predict(inputs, samples())
    assert len(out) == 2 and not called and fresh.teacher is None


def test_denoising_query_layout():
    q, g = RichSemDINOHead.denoising_queries(
        2, dict(num_denoising_groups=2, num_denoising_queries=16), 'cpu')
    # per group of 8: positives 0..1, negatives 4..5 (mmdet CdnQueryGenerator)
    assert q.tolist() == [0, 1, 8, 9]
    assert g.tolist() == [0, 1, 0, 1]


def test_switches_zero_positive_weights(dino_cfg):
    torch.manual_seed(0)
    head = MODELS.build(copy.deepcopy(dino_cfg)).bbox_head
    gt = InstanceData(bboxes=torch.tensor([[0., 0., 10., 10.]]),
                      labels=torch.tensor([1]),
                      cls_valid=torch.tensor([False]),
                      loc_valid=torch.tensor([True]))
    out = (torch.tensor([1, 5, 5]), torch.ones(3), torch.zeros(3, 4),
           torch.ones(3, 4), torch.tensor([0]), torch.tensor([1, 2]))
    _, label_w, _, bbox_w, _, _ = head._switch(out, gt)
    assert label_w.tolist() == [0., 1., 1.]
    assert bbox_w.sum().item() == 12
    gt.cls_valid[:] = True
    gt.loc_valid[:] = False
    _, label_w, _, bbox_w, _, _ = head._switch(out, gt)
    assert label_w.tolist() == [1., 1., 1.] and bbox_w[0].sum() == 0


def test_whole_image_batch(dino_cfg):
    torch.manual_seed(0)
    model = MODELS.build(copy.deepcopy(dino_cfg))
    model.init_weights()
    model.train()
    data = samples(image_label=True)
    for s in data:
        s.gt_instances.labels = torch.tensor([-1])     # Eq. 7
    losses = model.loss(torch.randn(2, 3, 128, 128), data)
    assert 'eq7_hard_label_rate' in losses
    assert losses['loss_soft'].item() > 0
    for s in data:
        assert s.gt_instances.labels.item() >= 0
