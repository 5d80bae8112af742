"""The RegionCLIP C4 detector (OfflineRPNDetector over CLIPResNet +
CLIPResLayer4Head + CLIPEmbeddingBBoxHead) and its zero-shot variant: train
and test steps, the frozen offline RPN, input renormalisation, the
geometric-mean fusion and ground-truth-box mode."""
from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmdet.utils import register_all_modules
from mmengine.config import ConfigDict
from mmengine.structures import InstanceData

import ovd_ext  # noqa: F401
from ovd_ext.vlm.vocabulary import save_class_embeddings

CLIP = dict(type='OpenCLIP', name='ovd-tiny-rn', checkpoint=None)


def detector_cfg(vocabulary: str, kind: str = 'OfflineRPNDetector',
                 **extra) -> dict:
    nms = dict(type='nms', iou_threshold=0.7)
    rpn_test = dict(nms_pre=200, max_per_img=50, nms=nms, min_bbox_size=0)
    cfg = dict(
        type=kind,
        data_preprocessor=dict(type='DetDataPreprocessor',
                               mean=[122.77, 116.75, 104.09],
                               std=[68.50, 66.63, 70.32], bgr_to_rgb=True,
                               pad_size_divisor=32),
        backbone=dict(type='CLIPResNet', clip=CLIP),
        offline_rpn=dict(
            type='RPN',
            data_preprocessor=dict(type='DetDataPreprocessor',
                                   mean=[103.53, 116.28, 123.675],
                                   std=[1.0, 1.0, 1.0], bgr_to_rgb=False),
            backbone=dict(type='ResNet', depth=18, base_channels=8,
                          out_indices=(0, 1, 2, 3), norm_eval=True),
            neck=dict(type='FPN', in_channels=[8, 16, 32, 64],
                      out_channels=16, num_outs=5),
            rpn_head=dict(
                type='RPNHead', in_channels=16, feat_channels=16,
                anchor_generator=dict(type='AnchorGenerator', scales=[4],
                                      ratios=[0.5, 1.0, 2.0],
                                      strides=[4, 8, 16, 32, 64]),
                bbox_coder=dict(type='DeltaXYWHBBoxCoder',
                                target_means=[0.] * 4, target_stds=[1.] * 4)),
            train_cfg=None, test_cfg=dict(rpn=rpn_test)),
        proposal_cfg=dict(train=rpn_test, test=rpn_test),
        roi_head=dict(
            type='StandardRoIHead',
            shared_head=dict(type='CLIPResLayer4Head', clip=CLIP),
            bbox_roi_extractor=dict(
                type='SingleRoIExtractor',
                roi_layer=dict(type='RoIAlign', output_size=4,
                               sampling_ratio=0),
                out_channels=192, featmap_strides=[16]),
            bbox_head=dict(
                type='CLIPEmbeddingBBoxHead', vocabulary=vocabulary,
                in_channels=128, novel_classes=['c2'],
                bbox_coder=dict(type='DeltaXYWHBBoxCoder',
                                target_means=[0.] * 4,
                                target_stds=[0.1, 0.1, 0.2, 0.2]),
                loss_cls=dict(type='FocalScaledCrossEntropyLoss',
                              focal_gamma=0.5, bg_weight=0.2),
                loss_bbox=dict(type='L1Loss', loss_weight=1.0))),
        train_cfg=dict(rcnn=dict(
            assigner=dict(type='MaxIoUAssigner', pos_iou_thr=0.5,
                          neg_iou_thr=0.5, min_pos_iou=0.5,
                          ignore_iof_thr=-1),
            sampler=dict(type='RandomSampler', num=32, pos_fraction=0.25,
                         neg_pos_ub=-1, add_gt_as_proposals=True),
            pos_weight=-1, debug=False)),
        test_cfg=dict(rcnn=dict(score_thr=0.0, nms=dict(type='nms',
                                                        iou_threshold=0.5),
                                max_per_img=20)))
    cfg.update(extra)
    return cfg


@pytest.fixture
def vocabulary(tmp_path):
    path = str(tmp_path / 'vocab.npy')
    rng = np.random.default_rng(0)
    save_class_embeddings(path, rng.normal(size=(3, 128)), ['c0', 'c1', 'c2'],
                          model='random', prompts='none')
    return path


def batch(n: int = 2, size: int = 96):
    torch.manual_seed(0)
    inputs, samples = [], []
    for i in range(n):
        inputs.append(torch.randint(0, 255, (3, size, size),
                                    dtype=torch.uint8))
        s = DetDataSample(metainfo=dict(img_shape=(size, size),
                                        ori_shape=(size, size),
                                        scale_factor=(1.0, 1.0),
                                        img_id=i))
        s.gt_instances = InstanceData(
            bboxes=torch.tensor([[10., 12., 50., 60.], [40., 30., 90., 80.]]),
            labels=torch.tensor([0, 1]))
        samples.append(s)
    return dict(inputs=inputs, data_samples=samples)


def build(cfg):
    register_all_modules(init_default_scope=True)
    torch.manual_seed(0)
    return MODELS.build(ConfigDict(cfg))


def test_train_step_trains_clip_parts_not_the_rpn(vocabulary):
    model = build(detector_cfg(vocabulary))
    model.init_weights()
    rpn_before = copy.deepcopy(model.offline_rpn.state_dict())
    head_before = model.roi_head.shared_head.attnpool.c_proj.weight.clone()
    optim = torch.optim.SGD(model.parameters(), lr=0.01)
    from mmengine.optim import OptimWrapper
    model.train()
    assert not model.offline_rpn.training
    log = model.train_step(batch(), OptimWrapper(optim))
    assert {'loss_cls', 'loss_bbox'} <= set(log)
    assert not any(k.startswith('loss_rpn') for k in log)
    after = model.offline_rpn.state_dict()
    assert all(torch.equal(rpn_before[k], after[k]) for k in after)
    assert not torch.equal(
        head_before, model.roi_head.shared_head.attnpool.c_proj.weight)
    # stem and layer1 are frozen (detectron2 FREEZE_AT=2)
    assert not model.backbone.conv1.weight.requires_grad
    assert not model.backbone.layer1[0].conv1.weight.requires_grad
    assert model.backbone.layer2[0].conv1.weight.requires_grad


def test_predict_gives_boxes_in_the_vocabulary(vocabulary):
    model = build(detector_cfg(vocabulary)).eval()
    data = model.data_preprocessor(batch(), False)
    with torch.no_grad():
        out = model(**data, mode='predict')
    assert len(out) == 2
    pred = out[0].pred_instances
    assert len(pred) <= 20
    assert pred.labels.max() < 3 and pred.bboxes.shape[1] == 4


def test_rpn_inputs_renormalise_to_the_rpn_convention(vocabulary):
    model = build(detector_cfg(vocabulary))
    raw = torch.rand(1, 3, 8, 8) * 255             # BGR pixels, as loaded
    main = model.data_preprocessor
    rgb = raw[:, [2, 1, 0]]
    x = (rgb - main.mean) / main.std                # detector input (RGB)
    got = model.rpn_inputs(x)
    expected = raw - model.offline_rpn.data_preprocessor.mean  # BGR, std 1
    torch.testing.assert_close(got, expected, atol=1e-3, rtol=1e-4)


def test_offline_rpn_checkpoint_loads_strictly(vocabulary, tmp_path):
    model = build(detector_cfg(vocabulary))
    state = {('rpn_head.' + k[len('bbox_head.'):]
              if k.startswith('bbox_head.') else k): v + 1
             for k, v in model.offline_rpn.state_dict().items()
             if v.dtype.is_floating_point}
    state.update({k: v for k, v in model.offline_rpn.state_dict().items()
                  if not v.dtype.is_floating_point})
    path = str(tmp_path / 'two_stage.pth')
    torch.save({'state_dict': dict(state, **{'roi_head.x': torch.zeros(1)})},
               path)
    loaded = build(detector_cfg(vocabulary, offline_rpn_checkpoint=path))
    w = loaded.offline_rpn.bbox_head.rpn_cls.weight
    torch.testing.assert_close(w, state['rpn_head.rpn_cls.weight'])
    del state['neck.fpn_convs.0.conv.weight']
    torch.save({'state_dict': state}, path)
    with pytest.raises(KeyError, match='neck.fpn_convs.0.conv.weight'):
        build(detector_cfg(vocabulary, offline_rpn_checkpoint=path))


def test_zero_shot_fusion_is_the_geometric_mean(vocabulary):
    model = build(detector_cfg(vocabulary, 'RegionCLIPZeroShotDetector'))
    probs = torch.tensor([[0.64, 0.36], [0.1, 0.9]])
    obj = torch.tensor([0.25, 1.0])
    torch.testing.assert_close(
        model.fuse(probs, obj), torch.tensor([[0.4, 0.3], [0.1 ** 0.5,
                                                          0.9 ** 0.5]]))


def test_zero_shot_gt_mode_classifies_every_box(vocabulary):
    model = build(detector_cfg(vocabulary, 'RegionCLIPZeroShotDetector',
                               proposals='gt',
                               objectness_fusion='none')).eval()
    data = model.data_preprocessor(batch(), False)
    with torch.no_grad():
        out = model(**data, mode='predict')
    pred = out[0].pred_instances
    # 2 boxes x 3 classes, every box with every class, probabilities
    assert len(pred) == 6
    assert sorted(pred.gt_index.tolist()) == [0, 0, 0, 1, 1, 1]
    for i in range(2):
        torch.testing.assert_close(pred.scores[pred.gt_index == i].sum(),
                                   torch.tensor(1.0))
    torch.testing.assert_close(pred.bboxes[pred.gt_index == 1][0],
                               torch.tensor([40., 30., 90., 80.]))
    # tau = 0.01 on unit vectors: the embeddings decide, the probabilities
    # are those of the classifier's cosine similarities / 0.01
    x = model.extract_feat(data['inputs'])
    emb = model.region_embeddings(x, [s.gt_instances.bboxes
                                      for s in data['data_samples']])
    text = model.roi_head.bbox_head.fc_cls.class_embeddings
    expected = (emb[:2] @ text.t() / 0.01).softmax(-1)
    got = torch.stack([pred.scores[(pred.gt_index == i) &
                                   (pred.labels == c)][0]
                       for i in range(2) for c in range(3)]).view(2, 3)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-4)


def test_zero_shot_rpn_mode_and_no_training(vocabulary):
    model = build(detector_cfg(vocabulary,
                               'RegionCLIPZeroShotDetector')).eval()
    data = model.data_preprocessor(batch(), False)
    with torch.no_grad():
        out = model(**data, mode='predict')
    pred = out[0].pred_instances
    assert len(pred) <= 20 and (pred.scores <= 1).all()
    with pytest.raises(RuntimeError, match='inference only'):
        model(**model.data_preprocessor(batch(), True), mode='loss')


def test_zero_shot_gt_cut_keeps_every_box_top1():
    # 3 boxes x 2 classes, max_per_img 3: a plain top-3 over all 6 pairs
    # (0.95, 0.9, 0.6) would drop box 2, whose best pair scores only 0.55,
    # and count it as misclassified; each box keeps its top-1 instead
    from mmengine.config import ConfigDict

    from ovd_ext.models.detectors.regionclip_zero_shot import \
        RegionCLIPZeroShotDetector
    probs = torch.tensor([[0.95, 0.6], [0.9, 0.1], [0.55, 0.45]])
    boxes = torch.arange(12, dtype=torch.float32).view(3, 4)
    res = RegionCLIPZeroShotDetector._all_classes(
        boxes, probs, ConfigDict(max_per_img=3))
    assert res.gt_index.tolist() == [0, 1, 2]
    assert res.labels.tolist() == [0, 0, 0]
    torch.testing.assert_close(res.scores, torch.tensor([0.95, 0.9, 0.55]))
    # a larger budget adds the best remaining pairs, ranked by score
    res = RegionCLIPZeroShotDetector._all_classes(
        boxes, probs, ConfigDict(max_per_img=5))
    assert res.scores.tolist() == pytest.approx([0.95, 0.9, 0.6, 0.55, 0.45])
    assert res.gt_index.tolist() == [0, 1, 0, 2, 2]
    torch.testing.assert_close(res.bboxes[2], boxes[0])


def test_zero_shot_detector_saves_no_copies_of_its_files(vocabulary,
                                                         tmp_path):
    # every weight of a zero-shot detector comes from files: with CLIP and
    # RPN files named, its state dict leaves those copies out and loading
    # keeps the built weights; with a random CLIP everything is saved
    rpn = build(detector_cfg(vocabulary)).offline_rpn
    rpn_path = str(tmp_path / 'rpn.pth')
    torch.save({'state_dict': rpn.state_dict()}, rpn_path)
    clip = dict(CLIP, checkpoint='checkpoints/ovd_shapes/ovd-tiny-rn.pt')
    cfg = detector_cfg(vocabulary, 'RegionCLIPZeroShotDetector',
                       offline_rpn_checkpoint=rpn_path,
                       backbone=dict(type='CLIPResNet', clip=clip))
    cfg['roi_head']['shared_head'] = dict(type='CLIPResLayer4Head', clip=clip)
    model = build(cfg).eval()
    state = model.state_dict()
    assert state and not any(k.startswith(('backbone.', 'offline_rpn.',
                                           'roi_head.shared_head.'))
                             for k in state)
    assert sum(v.numel() for v in state.values()) < 10_000
    fresh = build(cfg).eval()
    fresh.load_state_dict(state, strict=True)   # nothing reported missing
    data = model.data_preprocessor(batch(), False)
    with torch.no_grad():
        a = model(**copy.deepcopy(data), mode='predict')[0].pred_instances
        b = fresh(**data, mode='predict')[0].pred_instances
    torch.testing.assert_close(a.scores, b.scores)
    random_clip = build(detector_cfg(vocabulary, 'RegionCLIPZeroShotDetector',
                                     offline_rpn_checkpoint=rpn_path))
    assert any(k.startswith('backbone.') for k in random_clip.state_dict())
