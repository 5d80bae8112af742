"""XPM configs: every one parses; the OVD-Shapes teacher / students and the
OV-COCO student hold the paper's settings (Sec. 3.2, 4.1), read from the
parsed config; the OVD-Shapes student builds with a stand-in vocabulary and
keeps backbone / neck / RPN frozen; ``read_eta`` reads eta from a number or
a calibration json."""
from __future__ import annotations

import copy
import functools
import glob
import json
import os.path as osp

import pytest
from mmdet.registry import MODELS
from mmdet.utils import register_all_modules
from mmengine.config import Config

import ovd_ext  # noqa: F401
from ovd_ext.models.roi_heads.xpm_roi_head import read_eta
from ovd_ext.shapes import CLASSES as SHAPES_CLASSES

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
CFG_DIR = osp.join(ROOT, 'configs', 'xpm')
CONFIGS = sorted(osp.basename(p) for p in glob.glob(osp.join(CFG_DIR, '*.py')))
TEACHER = 'mask-rcnn_r18-narrow_fpn_xpm-teacher_ovd-shapes.py'
STUDENT = 'mask-rcnn_r18-narrow_fpn_xpm_ovd-shapes.py'
BCE = 'mask-rcnn_r18-narrow_fpn_xpm-bce_ovd-shapes.py'
ETA_CAL = 'mask-rcnn_r18-narrow_fpn_xpm-eta-calibrated_ovd-shapes.py'
COCO_TEACHER = 'mask-rcnn_r50_fpn_xpm-teacher_1x_ov-coco.py'
COCO = 'mask-rcnn_r50_fpn_xpm_70k_ov-coco.py'
CC3M = 'mask-rcnn_r50_fpn_xpm_70k_ov-coco_cc3m-captions.py'
NOVEL = ('star', 'ring', 'house', 'fish', 'mushroom')


pytestmark = pytest.mark.usefixtures('fast_mmdet_bases')


@functools.lru_cache(maxsize=None)
def load(name: str) -> Config:
    return Config.fromfile(osp.join(CFG_DIR, name))


def test_every_config_parses():
    assert set(CONFIGS) == {TEACHER, STUDENT, BCE, ETA_CAL, COCO_TEACHER,
                            COCO, CC3M}
    for name in CONFIGS:
        cfg = load(name)
        # the teachers keep their base's type name (FasterRCNN, a
        # TwoStageDetector like MaskRCNN in mmdet 3.x) with a mask head
        assert cfg.model.type in ('FasterRCNN', 'XPMMaskRCNN'), name
        assert cfg.model.roi_head.mask_head.class_agnostic is True, name
        assert cfg.model.roi_head.bbox_head.type == 'CLIPBBoxHead', name


@pytest.mark.parametrize('name', [TEACHER, COCO_TEACHER])
def test_teacher_loss_and_evaluator(name):
    cfg = load(name)
    loss = cfg.model.roi_head.bbox_head.loss_cls
    assert loss.type == 'FocalScaledCrossEntropyLoss'
    assert loss.bg_weight == 0.2 and loss.focal_gamma == 0.0
    evaluators = cfg.val_evaluator
    if not isinstance(evaluators, list):
        evaluators = [evaluators]
    coco = [e for e in evaluators if e.type == 'OVDCocoMetric']
    assert len(coco) == 1 and coco[0].constrained is True
    assert coco[0].metric == ['bbox', 'segm']
    assert cfg.test_evaluator == cfg.val_evaluator
    # the teacher is a plain two-stage detector with a class-agnostic
    # FCN mask head: no XPM losses
    assert cfg.model.type == 'FasterRCNN'
    assert cfg.model.roi_head.type == 'StandardRoIHead'
    assert cfg.model.roi_head.mask_head.type == 'FCNMaskHead'
    assert cfg.model.roi_head.mask_head.num_classes == 1
    assert 'pseudo_labeler' not in cfg


def test_ovd_shapes_teacher_values():
    cfg = load(TEACHER)
    assert [e.type for e in cfg.val_evaluator] == ['OVDCocoMetric',
                                                    'OVLVISMetric']
    assert cfg.val_evaluator[0].ann_file == \
        'data/ovd_shapes/annotations/instances_val.json'
    assert cfg.train_cfg.max_iters == 1100
    gt = cfg.train_dataloader.dataset
    assert gt.type == 'OVCocoDataset' and gt.drop_novel is True
    assert tuple(gt.metainfo.novel_classes) == NOVEL


def test_xpm_student_values():
    cfg, teacher = load(STUDENT), load(TEACHER)
    m = cfg.model
    assert m.type == 'XPMMaskRCNN'
    assert tuple(m.frozen_modules) == ('backbone', 'neck', 'rpn_head')
    rh = m.roi_head
    assert rh.type == 'XPMRoIHead'
    assert rh.eta == 0.01 and rh.noise is True
    assert rh.softmax_over == 'vocabulary'
    assert rh.mask_head.type == 'NoiseEstimatingMaskHead'
    assert rh.caption_vocabulary == rh.bbox_head.vocabulary == \
        cfg.caption_vocabulary == \
        'data/ovd_shapes/embeddings/ovd-shapes-20_tiny-rn.npy'
    # the student's detector is the teacher's apart from the XPM parts
    t = copy.deepcopy(teacher.model.to_dict())
    s = copy.deepcopy(m.to_dict())
    for d in (t, s):
        d.pop('type'), d.pop('frozen_modules', None)
        for k in ('type', 'caption_vocabulary', 'eta', 'noise',
                  'softmax_over'):
            d['roi_head'].pop(k, None)
        d['roi_head']['mask_head'].pop('type')
    assert s == t
    # mixed data: base GT (novel dropped) + captioned pseudo labels, 1:1,
    # one source per batch
    loader = cfg.train_dataloader
    assert loader.dataset.type == 'ConcatDataset'
    gt, cap = loader.dataset.datasets
    assert gt.type == 'OVCocoDataset' and gt.drop_novel is True
    assert gt == teacher.train_dataloader.dataset
    assert cap.type == 'CaptionPseudoLabelDataset'
    assert cap.ann_file == cfg.pseudo_labels == \
        'pseudo_labels/xpm_captions_train.json'
    assert cap.data_root == 'data/ovd_shapes/'
    assert cap.vocabulary == cfg.caption_vocabulary
    assert loader.sampler == dict(type='MultiDataSampler',
                                  dataset_ratio=[1, 1])
    assert loader.batch_sampler.type == 'MultiDataAspectRatioBatchSampler'
    assert loader.batch_sampler.batch_size == [4, 4]
    assert loader.batch_sampler.num_datasets == 2
    pack = cap.pipeline[-1]
    assert pack.type == 'PackDetInputs'
    assert 'caption_pseudo' in pack.meta_keys
    assert [t.type for t in cap.pipeline][:2] == ['LoadImageFromFile',
                                                  'LoadAnnotations']
    assert cap.pipeline[1].with_mask is True
    # budget: the paper's 70k student after a 90k teacher
    assert cfg.max_iters == cfg.train_cfg.max_iters == 850
    assert teacher.train_cfg.max_iters == 1100
    ratio = cfg.max_iters / teacher.train_cfg.max_iters
    assert abs(ratio - 70 / 90) < 0.05
    assert cfg.param_scheduler[-1].end == 850
    assert cfg.default_hooks.checkpoint.interval == 850
    # pseudo labeler and its inputs / output
    pl = cfg.pseudo_labeler
    assert pl.type == 'XPMLabeler' and pl.teacher_checkpoint is None
    assert pl.teacher_config == 'configs/xpm/' + TEACHER
    assert osp.isfile(osp.join(ROOT, pl.teacher_config))
    assert pl.vocabulary == cfg.caption_vocabulary
    assert pl.captions == 'data/ovd_shapes/annotations/captions_train.json'
    assert pl.nouns == 'data/ovd_shapes/annotations/lvis_v1_train.json'
    assert cfg.pseudo_label_io == dict(
        ann_file='data/ovd_shapes/annotations/instances_train.json',
        img_dir='data/ovd_shapes/images/',
        out='data/ovd_shapes/pseudo_labels/xpm_captions_train.json')
    assert osp.join(cap.data_root, cap.ann_file) == cfg.pseudo_label_io.out
    assert cfg.pseudo_label_run == dict(workers=2)


def _without(model: dict, noise: bool) -> dict:
    m = copy.deepcopy(model)
    assert m['roi_head'].pop('noise') is noise
    m['roi_head']['mask_head'].pop('type')
    return m


def test_bce_student_differs_only_in_noise_estimation():
    xpm, bce = load(STUDENT), load(BCE)
    assert bce.model.roi_head.noise is False
    assert bce.model.roi_head.mask_head.type == 'FCNMaskHead'
    assert _without(bce.model.to_dict(), False) == \
        _without(xpm.model.to_dict(), True)
    assert bce.train_dataloader == xpm.train_dataloader
    assert bce.train_cfg == xpm.train_cfg
    assert bce.pseudo_labeler == xpm.pseudo_labeler


def test_eta_calibrated_student_reads_a_json():
    xpm, cal = load(STUDENT), load(ETA_CAL)
    eta = cal.model.roi_head.eta
    assert isinstance(eta, str) and eta.endswith('.json')
    m = copy.deepcopy(cal.model.to_dict())
    m['roi_head']['eta'] = 0.01
    assert m == xpm.model.to_dict()


def test_ov_coco_student_values():
    cfg, teacher = load(COCO), load(COCO_TEACHER)
    assert cfg.model.type == 'XPMMaskRCNN'
    assert cfg.model.roi_head.eta == 0.01
    assert cfg.max_iters == cfg.train_cfg.max_iters == 70000
    assert cfg.train_cfg.type == 'IterBasedTrainLoop'
    opt = cfg.optim_wrapper.optimizer
    assert (opt.type, opt.lr) == ('SGD', 0.001)
    assert cfg.train_dataloader.batch_sampler.batch_size == [8, 8]
    assert cfg.train_dataloader.sampler.dataset_ratio == [1, 1]
    assert cfg.auto_scale_lr.base_batch_size == 8
    gt, cap = cfg.train_dataloader.dataset.datasets
    assert gt == cfg.gt_dataset == teacher.train_dataloader.dataset
    assert gt.drop_novel is True
    assert cap.type == 'CaptionPseudoLabelDataset'
    assert cap.data_root == 'data/coco/'
    assert cap.ann_file == 'pseudo_labels/xpm_captions_train2017.json'
    assert cfg.pseudo_labeler.teacher_config == 'configs/xpm/' + COCO_TEACHER
    assert osp.isfile(osp.join(ROOT, cfg.pseudo_labeler.teacher_config))
    assert cfg.pseudo_label_io.ann_file == \
        'data/coco/annotations/instances_train2017.json'
    assert 'caption_pseudo' in cap.pipeline[-1].meta_keys


def test_cc3m_captions_student():
    cfg, coco = load(CC3M), load(COCO)
    captions = 'data/cc3m/annotations/cc3m_train_captions.json'
    pl_file = 'data/cc3m/pseudo_labels/xpm_cc3m_train.json'
    gt, cap = cfg.train_dataloader.dataset.datasets
    # its ground-truth half is the OV-COCO student's
    assert gt == coco.train_dataloader.dataset.datasets[0]
    assert cap.type == 'CaptionPseudoLabelDataset'
    assert cap.ann_file == pl_file and cap.data_root == ''
    assert cap.data_prefix.img == 'data/cc3m/images/'
    assert cap.vocabulary == coco.caption_vocabulary
    assert cap.pipeline == coco.caption_pipeline
    assert cfg.pseudo_labeler.captions == captions
    assert cfg.pseudo_labeler.type == 'XPMLabeler'
    assert cfg.pseudo_label_io == dict(ann_file=captions,
                                       img_dir='data/cc3m/images/',
                                       out=pl_file)
    assert cfg.model == coco.model
    assert cfg.train_cfg == coco.train_cfg


def test_ovd_shapes_student_builds_with_frozen_trunk(vocab_factory):
    register_all_modules()
    vocab = vocab_factory(list(SHAPES_CLASSES), dim=16)
    m = copy.deepcopy(load(STUDENT).model)
    m.roi_head.bbox_head.vocabulary = vocab
    m.roi_head.caption_vocabulary = vocab
    model = MODELS.build(m)
    assert len(SHAPES_CLASSES) == 20
    assert model.roi_head.caption_words == list(SHAPES_CLASSES)
    assert model.roi_head.bbox_head.num_classes == 20
    assert model.roi_head.eta == 0.01 and model.roi_head.noise is True
    assert type(model.roi_head.mask_head).__name__ == \
        'NoiseEstimatingMaskHead'
    model.train()
    assert model.training and model.roi_head.training
    for name in ('backbone', 'neck', 'rpn_head'):
        module = getattr(model, name)
        params = list(module.parameters())
        assert params, name
        assert not any(p.requires_grad for p in params), name
        assert not any(mod.training for mod in module.modules()), name
    roi_params = list(model.roi_head.parameters())
    assert roi_params and all(p.requires_grad for p in roi_params)
    noise = model.roi_head.mask_head.noise_head
    assert all(p.requires_grad for p in noise.parameters())
    trainable = {n.split('.')[0] for n, p in model.named_parameters()
                 if p.requires_grad}
    assert trainable == {'roi_head'}


# ---------------------------------------------------------------- read_eta
def test_read_eta_number_and_json(tmp_path):
    assert read_eta(0.05) == 0.05
    assert read_eta(1) == 1.0 and isinstance(read_eta(1), float)
    path = tmp_path / 'eta.json'
    path.write_text(json.dumps({'eta': 0.09, 'num_images': 3}))
    assert read_eta(str(path)) == 0.09


def test_read_eta_errors(tmp_path):
    missing = str(tmp_path / 'nope' / 'eta.json')
    with pytest.raises(FileNotFoundError) as e:
        read_eta(missing)
    assert missing in str(e.value)
    no_eta = tmp_path / 'no_eta.json'
    no_eta.write_text(json.dumps({'mean': 0.2}))
    with pytest.raises(ValueError, match='eta'):
        read_eta(str(no_eta))
    not_json = tmp_path / 'bad.json'
    not_json.write_text('{eta: ')
    with pytest.raises(ValueError):
        read_eta(str(not_json))
    for bad in (0, 0.0, -0.01):
        with pytest.raises(ValueError, match='positive'):
            read_eta(bad)
    negative = tmp_path / 'neg.json'
    negative.write_text(json.dumps({'eta': -0.5}))
    with pytest.raises(ValueError, match='positive'):
        read_eta(str(negative))
    zero = tmp_path / 'zero.json'
    zero.write_text(json.dumps({'eta': 0}))
    with pytest.raises(ValueError, match='positive'):
        read_eta(str(zero))


def test_eta_calibrated_student_builds_without_its_json(vocab_factory,
                                                        tmp_path):
    """Testing the config (the zoo, tools/test.py) needs no calibration
    file: it is read on the first training step."""
    register_all_modules()
    vocab = vocab_factory(list(SHAPES_CLASSES), dim=16)
    m = copy.deepcopy(load(ETA_CAL).model)
    m.roi_head.bbox_head.vocabulary = vocab
    m.roi_head.caption_vocabulary = vocab
    missing = str(tmp_path / 'eta.json')
    m.roi_head.eta = missing
    model = MODELS.build(m)
    with pytest.raises(FileNotFoundError, match='eta.json'):
        model.roi_head.eta
    with open(missing, 'w') as f:
        f.write('{"eta": 0.0916}')
    assert model.roi_head.eta == pytest.approx(0.0916)
