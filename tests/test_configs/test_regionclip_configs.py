"""RegionCLIP configs: every one parses; the real-data (COCO / LVIS / CC3M)
ones hold the paper's values (Sec. 4 (implementation details)) read from
the parsed config, take local files only, agree with each other (RPN ->
proposals -> pretraining -> transfer / zero-shot) and with the converter's
official layout; the OV-COCO transfer detector builds with a random RN50,
trains one step and predicts."""
from __future__ import annotations

import functools
import glob
import os.path as osp

import pytest
import torch
from mmdet.registry import MODELS
from mmdet.testing import demo_mm_inputs
from mmdet.utils import register_all_modules
from mmengine.config import Config

import ovd_ext  # noqa: F401
from ovd_ext.apis.converters.regionclip import convert_regionclip

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
CFG_DIR = osp.join(ROOT, 'configs', 'regionclip')
CONFIGS = sorted(osp.basename(p) for p in glob.glob(osp.join(CFG_DIR, '*.py')))
REAL = [c for c in CONFIGS if 'ovd-shapes' not in c]
TRANSFER = [c for c in REAL if c.startswith('faster-rcnn_rn50-c4_')]
ZERO_SHOT = [c for c in REAL if c.startswith('zero-shot_')]
DETECTORS = TRANSFER + ZERO_SHOT
STUDENT = 'checkpoints/regionclip/regionclip_rn50_pretrain_cc3m.pth'
RPN_CKPT = 'checkpoints/regionclip/rpn_r50_fpn_1x_ov-{}-base.pth'
#: Sec. 4 (implementation details): (background weight, focal gamma) on
#: COCO / LVIS
LOSS = {'coco': (0.2, 0.5), 'lvis': (0.8, 0.0)}


pytestmark = pytest.mark.usefixtures('fast_mmdet_bases')


@functools.lru_cache(maxsize=None)
def load(name: str) -> Config:
    return Config.fromfile(osp.join(CFG_DIR, name))


@functools.lru_cache(maxsize=None)
def base_clip() -> dict:
    """The ``clip`` of the real configs' CLIP base file."""
    return Config.fromfile(
        osp.join(ROOT, 'configs', '_base_', 'vlm', 'clip_rn50-openai.py')).clip


def strings(obj) -> list[str]:
    """Every string value in a (nested) config."""
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        obj = list(obj.values())
    if isinstance(obj, (list, tuple)):
        return [s for v in obj for s in strings(v)]
    return []


def is_student(name: str) -> bool:
    return 'regionclip-init' in name or name.endswith('-regionclip.py')


def test_the_real_configs_are_there():
    assert len(TRANSFER) == 5 and len(ZERO_SHOT) == 8
    for name in ('rpn_r50_fpn_1x_ov-coco-base.py',
                 'rpn_r50_fpn_1x_ov-lvis-base.py',
                 'regionclip_rn50_pretrain_cc3m.py',
                 'regionclip_rn50_pretrain_coco-cap.py'):
        assert name in REAL


@pytest.mark.parametrize('name', CONFIGS)
def test_config_parses(name):
    cfg = load(name)
    assert cfg.model.type
    assert cfg.custom_imports.imports == ['ovd_ext']


@pytest.mark.parametrize('name', REAL)
def test_real_config_downloads_nothing_and_says_what_it_needs(name):
    cfg = load(name)
    urls = [s for s in strings(cfg.to_dict()) if '://' in s]
    assert not urls, f'{name} would download {urls}'
    with open(osp.join(CFG_DIR, name)) as f:
        head = f.read().split('_base_ =')[0]
    assert head.count('\n#') >= 4, 'header comment missing'
    assert 'Local files' in head


@pytest.mark.parametrize('name', DETECTORS)
def test_c4_detector_values(name):
    cfg = load(name)
    m, data = cfg.model, 'lvis' if 'ov-lvis' in name else 'coco'
    vlm = base_clip()
    assert m.backbone.type == 'CLIPResNet'
    assert m.backbone.frozen_stages == 2          # detectron2 FREEZE_AT 2
    assert m.roi_head.shared_head.type == 'CLIPResLayer4Head'
    assert m.backbone.clip == m.roi_head.shared_head.clip
    assert m.backbone.clip.name == vlm.name == 'RN50-quickgelu'
    assert m.backbone.clip.checkpoint == vlm.checkpoint
    assert m.backbone.clip.get('image_checkpoint') == (
        STUDENT if is_student(name) else None)
    if is_student(name):
        assert m.backbone.clip.image_prefix == 'student.model.visual.'
    roi = m.roi_head.bbox_roi_extractor
    assert roi.roi_layer.output_size == 14 and roi.featmap_strides == [16]
    assert roi.roi_layer.aligned and roi.out_channels == 1024
    head = m.roi_head.bbox_head
    assert head.type == 'CLIPEmbeddingBBoxHead'
    assert (head.in_channels, head.projection, head.logit_scale,
            head.bg_embedding) == (1024, 'none', 100.0, 'zero')
    assert head.reg_class_agnostic
    assert head.bbox_coder.target_stds == [0.1, 0.1, 0.2, 0.2]
    assert (head.loss_cls.bg_weight, head.loss_cls.focal_gamma) == LOSS[data]
    if data == 'coco':
        assert head.vocabulary.endswith('ov-coco-65_clip-rn50.npy')
        assert len(head.novel_classes) == 17
    else:
        assert head.vocabulary.endswith('lvis-v1-1203_clip-rn50.npy')
        assert head.novel_classes.endswith('lvis_v1_train.json')   # rare
        assert m.test_cfg.rcnn.max_per_img == 300
    # the detector sees CLIP's normalisation, the offline RPN its own
    assert m.data_preprocessor.mean[0] == pytest.approx(122.7709383)
    assert m.offline_rpn.data_preprocessor.mean != m.data_preprocessor.mean


@pytest.mark.parametrize('data', ['coco', 'lvis'])
def test_transfer_offline_rpn_and_schedule(data):
    cfg = load(f'faster-rcnn_rn50-c4_clip-init_1x_ov-{data}.py')
    rpn = load(f'rpn_r50_fpn_1x_ov-{data}-base.py').model
    m = cfg.model
    assert m.type == 'OfflineRPNDetector'
    # Sec. 4 (implementation details): the RPN trained on the target
    # dataset's base classes
    assert m.offline_rpn_checkpoint == RPN_CKPT.format(data)
    own_backbone = dict(m.offline_rpn.backbone)
    want_backbone = dict(rpn.backbone)
    want_backbone.pop('init_cfg')
    assert own_backbone == want_backbone
    assert m.offline_rpn.neck == rpn.neck
    assert m.offline_rpn.rpn_head == rpn.rpn_head
    assert m.offline_rpn.data_preprocessor == rpn.data_preprocessor
    for mode in ('train', 'test'):
        assert m.proposal_cfg[mode].max_per_img == 1000
        assert m.proposal_cfg[mode].nms.iou_threshold == 0.7
    # Sec. 4 (implementation details): SGD, batch 16, lr 0.002, 1x
    # (detectron2: 90k COCO, 180k LVIS)
    assert cfg.optim_wrapper.optimizer.type == 'SGD'
    assert cfg.optim_wrapper.optimizer.lr == 0.002
    assert cfg.train_dataloader.batch_size * 8 == 16
    assert cfg.auto_scale_lr.base_batch_size == 16
    assert cfg.train_cfg.max_iters == {'coco': 90000, 'lvis': 180000}[data]
    if data == 'lvis':
        ds = cfg.train_dataloader.dataset
        assert ds.type == 'ClassBalancedDataset'
        assert ds.dataset.type == 'OVLVISV1Dataset' and ds.dataset.drop_novel
        assert cfg.test_evaluator.type == 'OVLVISMetric'
        assert cfg.test_evaluator.metric == 'bbox'
    else:
        assert cfg.train_dataloader.dataset.drop_novel
        assert cfg.test_evaluator.type == 'OVDCocoMetric'


@pytest.mark.parametrize('data', ['coco', 'lvis'])
def test_base_class_rpns(data):
    cfg = load(f'rpn_r50_fpn_1x_ov-{data}-base.py')
    assert cfg.model.type == 'RPN'
    ds = cfg.train_dataloader.dataset
    ds = ds.dataset if data == 'lvis' else ds
    assert ds.drop_novel is True     # base classes only (LVIS: f + c)
    init = cfg.model.backbone.init_cfg
    assert init.type == 'Pretrained' and init.checkpoint.startswith(
        'checkpoints/')
    assert cfg.test_evaluator.metric == 'proposal'


@pytest.mark.parametrize('source', ['cc3m', 'coco-cap'])
def test_pretraining_reads_the_dumped_proposals(source):
    dump = load(f'rpn_r50_fpn_1x_ov-lvis-base_dump-proposals_{source}.py')
    pre = load(f'regionclip_rn50_pretrain_{source}.py')
    # Sec. 4 (implementation details): the pretraining RPN is the LVIS-base
    # one; top 300, NMS 0.7
    assert dump.model == {**load('rpn_r50_fpn_1x_ov-lvis-base.py').model,
                          'test_cfg': dump.model.test_cfg}
    assert dump.model.test_cfg.rpn.nms.iou_threshold == 0.7
    assert dump.model.test_cfg.rpn.max_per_img == 300
    ev = dump.test_evaluator
    assert ev.type == 'DumpProposals' and ev.num_max_proposals == 300
    ds = pre.train_dataloader.dataset
    assert ds.proposal_file == osp.join(ev.output_dir, ev.proposals_file)
    dumped = dump.test_dataloader.dataset
    assert dumped.type == ds.type == 'CaptionDataset'
    assert osp.join(dumped.data_root, dumped.ann_file) == ds.ann_file
    assert osp.join(dumped.data_root, dumped.data_prefix.img) == \
        ds.data_prefix.img
    if source == 'coco-cap':
        assert ds.ann_file == 'data/coco/annotations/captions_train2017.json'


def test_pretraining_values():
    cfg = load('regionclip_rn50_pretrain_cc3m.py')
    m = cfg.model
    assert m.type == 'RegionCLIPPretrainer'
    # Sec. 4 (implementation details): tau 0.01, 100 regions per image
    assert m.temperature == 0.01
    assert m.min_teacher_prob == 0.0                   # paper: every region
    assert m.clip.type == 'OpenCLIP' and m.clip.name == 'RN50-quickgelu'
    assert m.concepts.endswith('.npy')
    props = [t for t in cfg.train_dataloader.dataset.pipeline
             if t.type == 'LoadCaptionProposals']
    assert props[0].num_max_proposals == 100           # 100 regions / image
    opt = cfg.optim_wrapper
    assert (opt.optimizer.type, opt.optimizer.lr) == ('SGD', 0.002)
    assert opt.clip_grad.max_norm == 5.0
    assert cfg.train_cfg.max_iters == 600000
    assert cfg.train_dataloader.batch_size * 32 == 96 == \
        cfg.auto_scale_lr.base_batch_size
    coco = load('regionclip_rn50_pretrain_coco-cap.py')
    assert coco.model == cfg.model                     # same pool, same CLIP


def test_zero_shot_values():
    for name in ZERO_SHOT:
        m = load(name).model
        assert m.type == 'RegionCLIPZeroShotDetector'
        assert m.temperature == 0.01
        if '_rpn_' in name:
            assert m.proposals == 'rpn' and m.objectness_fusion == 'geometric'
            # Sec. 4 (implementation details): "NMS threshold was set to
            # 0.9"; the pretraining RPN
            assert m.test_cfg.rcnn.nms.iou_threshold == 0.9
            assert m.proposal_cfg.test.nms.iou_threshold == 0.9
            assert m.offline_rpn_checkpoint == RPN_CKPT.format('lvis')
        else:
            assert m.proposals == 'gt' and m.objectness_fusion == 'none'
            ds = load(name).test_dataloader.dataset
            pipe = [t.type for t in ds.pipeline]
            assert pipe.index('LoadAnnotations') < pipe.index('Resize')


def test_official_config_has_the_converters_coco_rpn_layout():
    """The layout the converter's report prescribes for the official COCO
    RPN (R50-C4, 15 anchors) is the one the config builds."""
    sd = {'offline_proposal_generator.rpn_head.objectness_logits.weight':
          torch.zeros(15, 1024, 1, 1)}
    note = next(n for n in convert_regionclip(sd).report.notes
                if 'offline RPN' in n)
    rpn = load('faster-rcnn_rn50-c4_regionclip-official_ov-coco.py') \
        .model.offline_rpn
    bb, head = rpn.backbone, rpn.rpn_head
    assert 'R50-C4' in note and rpn.neck is None
    assert bb.style == 'caffe' and bb.depth == 50
    compact = note.replace(' ', '')
    assert f'num_stages={bb.num_stages}' in compact
    for key in ('strides', 'dilations', 'out_indices'):
        assert f'{key}={tuple(bb[key])}'.replace(' ', '') in compact, key
    gen = head.anchor_generator
    assert len(gen.scales) * len(gen.ratios) == 15 and '15 anchors' in note
    assert gen.strides == [16] and 'stride 16' in note
    assert gen.scale_major is False and 'scale_major=False' in note
    assert head.in_channels == 1024
    # detectron2 input: BGR minus the caffe mean, std 1
    assert rpn.data_preprocessor.bgr_to_rgb is False
    assert rpn.data_preprocessor.std == [1.0, 1.0, 1.0]


def test_coco_transfer_detector_trains_and_predicts(vocab_factory):
    """The real OV-COCO RegionCLIP detector with a random RN50 (no files):
    1024-d C4 and region embeddings, 65 classes; one loss step reaches
    layer3 but not the frozen stem / layer1 (FREEZE_AT 2) nor the offline
    RPN; prediction gives labels within the 65 classes."""
    register_all_modules()
    cfg = load('faster-rcnn_rn50-c4_regionclip-init_1x_ov-coco.py').copy()
    m = cfg.model
    rn50 = dict(type='OpenCLIP', name='RN50', checkpoint=None)
    m.backbone.clip = rn50
    m.roi_head.shared_head.clip = rn50
    m.roi_head.bbox_head.vocabulary = vocab_factory(
        list(cfg.ov_coco_classes), dim=1024)
    m.offline_rpn_checkpoint = None
    # few RoIs through layer4 on CPU
    m.proposal_cfg.train.max_per_img = m.proposal_cfg.test.max_per_img = 4
    m.train_cfg.rcnn.sampler.num = 8
    model = MODELS.build(m)
    assert model.backbone.out_channels == 1024
    assert model.roi_head.shared_head.out_channels == 1024
    assert model.roi_head.bbox_head.num_classes == 65
    # labels 0-3: person, bicycle, car, motorcycle, base classes (training
    # data never holds novel boxes: drop_novel)
    packed = demo_mm_inputs(2, [[3, 96, 128], [3, 128, 96]], num_classes=4)
    model.train()
    losses = model(**model.data_preprocessor(packed, True), mode='loss')
    loss, _ = model.parse_losses(losses)
    assert torch.isfinite(loss) and losses['loss_cls'] > 0
    loss.backward()
    assert getattr(model.backbone.layer3[0].downsample, '0').weight.grad \
        .abs().sum() > 0
    assert model.backbone.conv1.weight.grad is None          # stem frozen
    assert getattr(model.backbone.layer1[0].downsample, '0').weight.grad \
        is None                                               # layer1 frozen
    assert all(p.grad is None for p in model.offline_rpn.parameters())
    assert not model.offline_rpn.training
    model.eval()
    with torch.no_grad():
        out = model(**model.data_preprocessor(packed, False), mode='predict')
    assert len(out) == 2
    for sample in out:
        pred = sample.pred_instances
        assert 0 < len(pred) <= 100
        assert pred.labels.max() < 65 and torch.isfinite(pred.scores).all()
