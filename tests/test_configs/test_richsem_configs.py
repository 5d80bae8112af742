"""RichSem configs: every one parses; the real LVIS v1 + ImageNet ones hold
the paper's values (Sec. 3-4.2), read from the parsed config: lambda_soft
0.5, 1:1 mixing of one-dataset batches, repeat-factor sampling (1e-3), the
federated loss (Faster R-CNN), the CLIP RN50 layer4 teacher, DINO's lr 1e-4,
1x counted on the detection data, whole-image boxes after the last geometric
transform; their image-label dataset maps LVIS names and packs
``image_label``; the real detectors build with a tiny CLIP and a random
1203-class vocabulary standing in for CLIP RN50 and its text embeddings."""
from __future__ import annotations

import copy
import functools
import glob
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmdet.datasets import LVISV1Dataset
from mmdet.registry import DATASETS, MODELS
from mmdet.utils import register_all_modules
from mmengine.config import Config

import ovd_ext  # noqa: F401
from ovd_ext.models.detectors.richsem import HARD_LABEL_THRESHOLD
from ovd_ext.vlm.vocabulary import save_class_embeddings

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
CFG_DIR = osp.join(ROOT, 'configs', 'richsem')
CONFIGS = sorted(osp.basename(p) for p in glob.glob(osp.join(CFG_DIR, '*.py')))
FRCNN = 'faster-rcnn_r50_fpn_richsem_1x_lvis-imagenet.py'
UNLABELED = 'faster-rcnn_r50_fpn_richsem_1x_lvis-imagenet-unlabeled.py'
DINO = 'dino-4scale_r50_richsem_1x_lvis-imagenet.py'
REAL = [FRCNN, UNLABELED, DINO]
LVIS_CLASSES = tuple(LVISV1Dataset.METAINFO['classes'])
TINY_CLIP = dict(name='ovd-tiny-rn',
                 checkpoint='checkpoints/ovd_shapes/ovd-tiny-rn.pt')
GEOMETRIC = ('Resize', 'RandomResize', 'RandomChoiceResize', 'RandomFlip',
             'RandomCrop', 'RandomCenterCropPad', 'RandomAffine', 'Expand',
             'RandomShift', 'Pad', 'FixShapeResize', 'MinIoURandomCrop',
             'Mosaic', 'MixUp', 'RandomChoice', 'RandomApply')


pytestmark = pytest.mark.usefixtures('fast_mmdet_bases')


@functools.lru_cache(maxsize=None)
def load(name: str) -> Config:
    return Config.fromfile(osp.join(CFG_DIR, name))


@functools.lru_cache(maxsize=None)
def base_clip() -> dict:
    return Config.fromfile(
        osp.join(ROOT, 'configs', '_base_', 'vlm', 'clip_rn50-openai.py')).clip


def sources(cfg) -> tuple[dict, dict]:
    """(detection dataset, image-label dataset) of the mixed train data."""
    det, extra = cfg.train_dataloader.dataset.datasets
    return det, extra


def flat(pipeline) -> list[dict]:
    """Transforms in order, nested ``RandomChoice`` branches inline after
    the wrapper."""
    out = []
    for t in pipeline:
        out.append(t)
        for branch in t.get('transforms', []):
            out += flat(branch if isinstance(branch, list) else [branch])
    return out


def flat_types(pipeline) -> list[str]:
    return [t['type'] for t in flat(pipeline)]


def semantic_branch(cfg) -> dict:
    m = cfg.model
    head = m.roi_head if m.type == 'RichSemFasterRCNN' else m.bbox_head
    return head.semantic_branch


def test_every_config_parses():
    assert len(CONFIGS) >= 7 and set(REAL) <= set(CONFIGS)
    for name in CONFIGS:
        cfg = load(name)
        assert cfg.model.type in ('RichSemFasterRCNN', 'RichSemDINO'), name


@pytest.mark.parametrize('name', REAL)
def test_real_configs_hold_the_paper_settings(name):
    cfg = load(name)
    m = cfg.model
    # Eq. 4-5: an independent semantic branch, lambda_soft = 0.5 (Sec. 4.2)
    branch = semantic_branch(cfg)
    assert branch.type == 'SemanticBranch' and branch.loss_weight == 0.5
    assert cfg.lambda_soft == 0.5
    # the frozen CLIP RN50 teacher pooling layer4 (Sec. 4.2; official)
    assert m.teacher.type == 'CLIPSoftLabelTeacher'
    assert m.teacher.layer == 'layer4'
    assert m.teacher.clip == base_clip() == cfg.clip
    assert m.teacher.clip.checkpoint == 'checkpoints/clip/RN50-openai.pt'
    # one vocabulary file: teacher targets and semantic-branch Contrast
    assert cfg.vocabulary == \
        'data/lvis_v1/embeddings/lvis-v1-1203_clip-rn50.npy'
    assert m.teacher.vocabulary == branch.vocabulary == cfg.vocabulary
    # Eq. 7 threshold: the model's default; whole-image boxes get L_loc
    assert 'hard_label_threshold' not in m
    assert HARD_LABEL_THRESHOLD == 0.5
    assert m.get('loc_on_image_labels', True) is True
    # mixed data: 1:1, each batch from one dataset (Sec. 4.2)
    loader = cfg.train_dataloader
    assert loader.dataset.type == 'ConcatDataset'
    assert loader.dataset.ignore_keys == ['palette']
    assert loader.sampler == dict(type='MultiDataSampler',
                                  dataset_ratio=[1, 1])
    assert loader.batch_sampler.type == 'MultiDataAspectRatioBatchSampler'
    assert loader.batch_sampler.batch_size == [2, 2]
    assert loader.batch_sampler.num_datasets == 2
    # LVIS v1, every class, repeat-factor sampling t = 1e-3 (Sec. 4.2)
    det, extra = sources(cfg)
    assert det.type == 'ClassBalancedDataset' and det.oversample_thr == 1e-3
    assert det.dataset.type == 'LVISV1Dataset'
    assert 'metainfo' not in det.dataset and 'drop_novel' not in det.dataset
    assert det.dataset.data_root == cfg.data_root == 'data/lvis_v1/'
    assert extra.type == 'ImageLabelDataset' and extra.taxonomy is None
    assert extra.data_root == cfg.imagenet_root == 'data/imagenet/'
    assert tuple(extra.metainfo.classes) == LVIS_CLASSES
    assert tuple(cfg.lvis_v1_classes) == LVIS_CLASSES
    # multi-scale training: short side 480-800 (step 32), long side 1333
    multi_scale = [sorted((min(s), max(s)) for s in t.scales)
                   for t in flat(det.dataset.pipeline)
                   if t.type == 'RandomChoiceResize']
    assert [(s, 1333) for s in range(480, 801, 32)] in multi_scale
    # LVIS v1 val, box AP / APr / APc / APf, 300 detections per image
    for ev in (cfg.val_evaluator, cfg.test_evaluator):
        assert ev.type == 'OVLVISMetric' and ev.metric == ['bbox']
        assert ev.ann_file == 'data/lvis_v1/annotations/lvis_v1_val.json'
        assert ev.get('max_dets', 300) == 300
    val = cfg.test_dataloader.dataset
    assert val.type == 'LVISV1Dataset' and val.test_mode
    assert 'with_mask' not in str(val.pipeline)
    rcnn = m.test_cfg.get('rcnn', m.test_cfg)
    assert rcnn.max_per_img == 300
    # 1x counted on the detection data: twice the iterations (Sec. 4.2)
    assert cfg.det_epoch_iters == 7674 and cfg.det_epochs == 12
    assert cfg.max_iters == 2 * 12 * 7674 == 184176
    assert cfg.train_cfg == dict(type='IterBasedTrainLoop',
                                 max_iters=184176, val_interval=184176)
    multistep = [s for s in cfg.param_scheduler if s.type == 'MultiStepLR']
    assert len(multistep) == 1 and multistep[0].by_epoch is False
    assert multistep[0].end == cfg.max_iters
    assert cfg.log_processor.by_epoch is False
    assert cfg.default_hooks.checkpoint.by_epoch is False


@pytest.mark.parametrize('name', REAL)
def test_image_label_pipeline_packs_whole_image_boxes(name):
    cfg = load(name)
    det, extra = sources(cfg)
    pipeline = extra.pipeline
    types = [t.type for t in pipeline]
    # WholeImageBox after every geometric transform, right before packing
    assert types[-2:] == ['WholeImageBox', 'PackDetInputs']
    assert 'image_label' in pipeline[-1].meta_keys
    last_geometric = max(i for i, t in enumerate(types) if t in GEOMETRIC)
    assert last_geometric < types.index('WholeImageBox')
    assert not set(flat_types(pipeline[types.index('WholeImageBox'):])) & \
        set(GEOMETRIC)
    # the same augmentation as the detection data, no WholeImageBox there
    det_types = flat_types(det.dataset.pipeline)
    assert 'WholeImageBox' not in det_types
    assert [t for t in flat_types(pipeline) if t in GEOMETRIC] == \
        [t for t in det_types if t in GEOMETRIC]


def test_faster_rcnn_values():
    cfg = load(FRCNN)
    m = cfg.model
    assert m.type == 'RichSemFasterRCNN'
    assert m.roi_head.type == 'RichSemRoIHead'
    branch = m.roi_head.semantic_branch
    assert (branch.in_channels, branch.num_fcs, branch.fc_channels) == (
        256 * 7 * 7, 2, 1024)
    head = m.roi_head.bbox_head
    assert head.vocabulary == cfg.vocabulary
    assert head.get('novel_classes') is None       # not open-vocabulary
    loss = head.loss_cls
    assert loss.type == 'FederatedSigmoidLoss'
    assert loss.class_frequency == cfg.lvis_train_json == \
        'data/lvis_v1/annotations/lvis_v1_train.json'
    assert (loss.num_sample_classes, loss.freq_weight_power) == (50, 0.5)
    # mmdet 1x recipe, drops at epochs 8 and 11 of the detection data, x2
    opt = cfg.optim_wrapper.optimizer
    assert (opt.type, opt.lr, opt.momentum) == ('SGD', 0.02, 0.9)
    steps = [s for s in cfg.param_scheduler if s.type == 'MultiStepLR'][0]
    assert steps.milestones == [2 * 8 * 7674, 2 * 11 * 7674] == \
        [122784, 168828]
    assert cfg.auto_scale_lr.base_batch_size == 16


def test_dino_values():
    cfg = load(DINO)
    m = cfg.model
    assert m.type == 'RichSemDINO'
    assert m.bbox_head.type == 'RichSemDINOHead'
    assert m.bbox_head.num_classes == 1203 == len(LVIS_CLASSES)
    assert m.bbox_head.semantic_dn is True
    branch = m.bbox_head.semantic_branch
    assert (branch.in_channels, branch.num_fcs, branch.fc_channels) == (
        256, 2, 256)
    assert m.bbox_head.loss_cls.type == 'FocalLoss'  # mmdet's classifier
    assert m.test_cfg.max_per_img == 300
    # Sec. 4.2: lr 1e-4, x0.1 at the 11th of 12 epochs (on the detection
    # data, twice the iterations)
    opt = cfg.optim_wrapper.optimizer
    assert (opt.type, opt.lr, opt.weight_decay) == ('AdamW', 1e-4, 1e-4)
    assert cfg.optim_wrapper.paramwise_cfg.custom_keys.backbone.lr_mult == 0.1
    assert cfg.optim_wrapper.clip_grad.max_norm == 0.1
    assert cfg.param_scheduler == [dict(
        type='MultiStepLR', by_epoch=False, begin=0, end=184176,
        milestones=[2 * 11 * 7674], gamma=0.1)]
    # DINO's augmentation on both sources
    _, extra = sources(cfg)
    assert 'RandomCrop' in flat_types(extra.pipeline)


def test_unlabeled_config_is_the_labeled_one_with_inet_unl():
    cfg, base = load(UNLABELED), load(FRCNN)
    det, extra = sources(cfg)
    base_det, base_extra = sources(base)
    assert extra.unlabeled is True                       # Eq. 7
    assert extra.ann_file == 'annotations/imagenet-21k_image_info.json'
    assert extra.data_prefix.img == 'ImageNet-21K/'
    assert extra.pipeline == base_extra.pipeline
    assert 'unlabeled' not in base_extra or not base_extra.unlabeled
    assert det == base_det
    assert cfg.model == base.model
    assert (cfg.max_iters, cfg.param_scheduler, cfg.optim_wrapper) == (
        base.max_iters, base.param_scheduler, base.optim_wrapper)


def write_image_labels(root: str, images: list[dict], categories: list[dict],
                       ann: str, prefix: str) -> None:
    rng = np.random.default_rng(0)
    for img in images:
        path = osp.join(root, prefix, img['file_name'])
        os.makedirs(osp.dirname(path), exist_ok=True)
        cv2.imwrite(path, rng.integers(0, 255, (img['height'], img['width'],
                                                3), dtype=np.uint8))
    os.makedirs(osp.dirname(osp.join(root, ann)), exist_ok=True)
    with open(osp.join(root, ann), 'w') as f:
        json.dump(dict(images=images, categories=categories), f)


@pytest.mark.parametrize('name', REAL)
def test_image_label_dataset_from_config(name, tmp_path):
    """The config's ImageLabelDataset maps Detic-style LVIS category names
    onto the detector's labels (or -1 when unlabelled) and packs the
    whole augmented image as the box, with ``image_label`` set."""
    register_all_modules()
    cfg = load(name)
    extra = copy.deepcopy(sources(cfg)[1])
    root = str(tmp_path) + '/'
    images = [dict(id=1, file_name='n1/a.JPEG', width=64, height=48,
                   pos_category_ids=[7]),
              dict(id=2, file_name='n2/b.JPEG', width=40, height=56,
                   pos_category_ids=[3])]
    categories = [dict(id=3, name='zebra'), dict(id=7, name='aerosol_can')]
    write_image_labels(root, images, categories, extra.ann_file,
                       extra.data_prefix.img)
    extra.data_root = root
    ds = DATASETS.build(extra)
    assert len(ds) == 2
    # equal to LVISV1Dataset's classes (same type too), so the ConcatDataset
    # (ignore_keys=['palette']) keeps one metainfo with the LVIS classes
    assert ds.metainfo['classes'] == LVISV1Dataset.METAINFO['classes']
    assert set(ds.metainfo) == {'classes'}
    np.random.seed(0)
    for i, want in enumerate([LVIS_CLASSES.index('aerosol_can'),
                              LVIS_CLASSES.index('zebra')]):
        sample = ds[i]['data_samples']
        assert sample.metainfo['image_label'] is True
        h, w = sample.metainfo['img_shape']
        assert min(h, w) >= 384                  # resized up (480-800 / crop)
        assert sample.gt_instances.bboxes.tensor.tolist() == [[0., 0., w, h]]
        label = -1 if extra.get('unlabeled') else want
        assert sample.gt_instances.labels.tolist() == [label]


@pytest.fixture(scope='module')
def stand_in_vocabulary(tmp_path_factory) -> str:
    """A random 1203-class vocabulary in the tiny CLIP's embedding space,
    named as embedded by it (the teacher checks the sidecar's model)."""
    from ovd_ext.vlm import build_clip
    dim = build_clip(TINY_CLIP['name'], TINY_CLIP['checkpoint']).embed_dim
    path = str(tmp_path_factory.mktemp('richsem_vocab') / 'lvis.npy')
    rng = np.random.default_rng(0)
    save_class_embeddings(path, rng.normal(size=(len(LVIS_CLASSES), dim)),
                          LVIS_CLASSES, model=TINY_CLIP['name'])
    return path


@pytest.mark.parametrize('name', [FRCNN, DINO])
def test_real_detector_builds_with_stand_ins(name, stand_in_vocabulary):
    """The real model config builds (full R50 detector, random weights) with
    the tiny CLIP and the random vocabulary swapped in; the teacher scores a
    ground-truth box and a whole-image box over the 1203 classes and the
    semantic branch learns them (no full training step: minutes on CPU)."""
    register_all_modules()
    m = copy.deepcopy(load(name).model)
    m.backbone.init_cfg = None
    m.teacher.clip = dict(TINY_CLIP)
    m.teacher.vocabulary = stand_in_vocabulary
    branch_cfg = (m.roi_head if name == FRCNN else m.bbox_head).semantic_branch
    branch_cfg.vocabulary = stand_in_vocabulary
    if name == FRCNN:
        m.roi_head.bbox_head.vocabulary = stand_in_vocabulary
        m.roi_head.bbox_head.loss_cls.class_frequency = [10.0] * 1203
    torch.manual_seed(0)
    model = MODELS.build(m)
    assert model.teacher is None                 # built on the first step
    branch = model.semantic_branch
    assert branch.num_classes == 1203 and branch.loss_weight == 0.5
    assert branch.fcs[0].in_features == (256 * 7 * 7 if name == FRCNN
                                         else 256)
    if name == FRCNN:
        assert model.roi_head.bbox_head.num_classes == 1203
    else:
        assert model.bbox_head.num_classes == 1203
    teacher = model.build_teacher(torch.device('cpu'))
    assert teacher.layer == 'layer4'
    assert branch.logit_scale == teacher.logit_scale
    inputs = torch.randn(1, 3, 96, 128)
    logits = teacher(inputs, [torch.tensor([[8., 8., 60., 70.],
                                            [0., 0., 128., 96.]])])
    assert logits.shape == (2, 1203) and torch.isfinite(logits).all()
    feats = torch.randn(2, branch.fcs[0].in_features, requires_grad=True)
    loss = branch.loss(feats, logits)
    loss.backward()
    assert torch.isfinite(loss) and loss.item() > 0
    assert branch.fcs[0].weight.grad.abs().sum() > 0
