"""configs/vl_plm: proposal generators are class-agnostic, students read
pseudo labels, and the OVD-Shapes student trains on them."""
import glob
import json
import os.path as osp

import numpy as np
import pytest
import torch
from mmdet.registry import DATASETS, MODELS, TRANSFORMS
from mmdet.utils import register_all_modules
from mmengine.config import Config
from mmengine.dataset import pseudo_collate

import ovd_ext  # noqa: F401
import ovd_ext.datasets.pseudo_label_dataset  # noqa: F401
import ovd_ext.datasets.transforms  # noqa: F401
from ovd_ext.shapes import CLASSES, NOVEL_CLASSES

ROOT = osp.join(osp.dirname(__file__), '..', '..', '..')
CFG_DIR = osp.join(ROOT, 'configs', 'vl_plm')
CONFIGS = sorted(glob.glob(osp.join(CFG_DIR, '*.py')))


def _dataset(cfg):
    ds = cfg.train_dataloader.dataset
    while 'dataset' in ds:
        ds = ds.dataset
    return ds


def _pseudo_dataset(cfg):
    """The dataset that reads the pseudo labels (STAC: the second source of
    its ConcatDataset, the first being the labeled images)."""
    ds = cfg.train_dataloader.dataset
    if ds.type == 'ConcatDataset':
        return ds.datasets[-1]
    return _dataset(cfg)


def test_class_agnostic_labels_transform():
    register_all_modules()
    t = TRANSFORMS.build(dict(type='ClassAgnosticLabels'))
    out = t({'gt_bboxes_labels': np.array([3, 7, 0], dtype=np.int64)})
    assert out['gt_bboxes_labels'].tolist() == [0, 0, 0]
    assert out['gt_bboxes_labels'].dtype == np.int64
    assert t({'img': 1}) == {'img': 1}                  # test time: no labels


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_configs_load(path):
    cfg = Config.fromfile(path)
    name = osp.basename(path)
    ds = _dataset(cfg)
    head = cfg.model.roi_head.bbox_head
    if 'class-agnostic' in name:
        assert head.num_classes == 1
        steps = [s['type'] for s in ds.pipeline]
        assert steps.index('ClassAgnosticLabels') == \
            steps.index('LoadAnnotations') + 1
        assert cfg.val_evaluator.metric == 'proposal'
        # OVD generators never see novel boxes; SSOD ones know every class
        assert ds.get('drop_novel', False) == (
            'ssod' not in name and ('ov-' in name or 'ovd-shapes' in name))
    if 'vl-plm' in name or 'supervised-' in name or 'stac' in name:
        pds = _pseudo_dataset(cfg)
        assert pds.type in ('PseudoLabelDataset', 'PseudoLabelLVISDataset')
        assert pds.pseudo_ann_file
        if 'clip-head' in name:
            assert head.novel_classes is None          # novel PLs trained
    assert cfg.custom_imports.imports == ['ovd_ext']


def test_shapes_student_matches_the_baseline_schedule():
    student = Config.fromfile(osp.join(
        CFG_DIR, 'mask-rcnn_r18-narrow_fpn_clip-head_vl-plm_ovd-shapes.py'))
    base = Config.fromfile(osp.join(
        ROOT, 'configs', 'ov_baselines',
        'mask-rcnn_r18-narrow_fpn_clip-head_ovd-shapes.py'))
    for key in ('train_cfg', 'optim_wrapper', 'param_scheduler'):
        assert student[key] == base[key]
    assert _dataset(student).drop_novel is True


def test_shapes_student_trains_on_pseudo_labels(shapes_root, vocab_factory,
                                                tmp_path):
    register_all_modules()
    cfg = Config.fromfile(osp.join(
        CFG_DIR, 'mask-rcnn_r18-narrow_fpn_clip-head_vl-plm_ovd-shapes.py'))
    cfg.model.roi_head.bbox_head.vocabulary = vocab_factory(CLASSES, dim=128)
    ann = json.load(open(osp.join(shapes_root, 'annotations',
                                  'instances_train.json')))
    star = next(c['id'] for c in ann['categories'] if c['name'] == 'star')
    pl = dict(images=ann['images'], categories=ann['categories'],
              annotations=[dict(id=i + 1, image_id=im['id'],
                                category_id=star, bbox=[8, 8, 40, 30],
                                score=0.9, pseudo=True, iscrowd=0, area=1200)
                           for i, im in enumerate(ann['images'])])
    (tmp_path / 'pl.json').write_text(json.dumps(pl))
    ds_cfg = cfg.train_dataloader.dataset
    ds_cfg.data_root = shapes_root + '/'
    ds_cfg.pseudo_ann_file = str(tmp_path / 'pl.json')
    ds = DATASETS.build(ds_cfg)
    assert ds.pseudo_stats['merged'] == len(ann['images'])
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.train()
    batch = [ds[i] for i in range(min(2, len(ds)))]
    labels = torch.cat([b['data_samples'].gt_instances.labels for b in batch])
    assert CLASSES.index('star') in labels.tolist()
    assert not set(NOVEL_CLASSES) - set(CLASSES)
    data = model.data_preprocessor(pseudo_collate(batch), True)
    losses = model(**data, mode='loss')
    loss, _ = model.parse_losses(losses)
    assert torch.isfinite(loss) and 'loss_mask' in losses


def test_shapes_student_declares_its_pseudo_labeler(shapes_root):
    """One labeler config: the OVD-Shapes settings of VL-PLM (Novel+Base,
    tau 0.8, 100 regions, the novel classes, the config's CLIP), the rest
    the paper's defaults; the proposal checkpoint is left to the runner."""
    from ovd_ext.pseudo_labels import build_labeler
    from ovd_ext.pseudo_labels.config import (labeler_config, labeler_io,
                                              run_defaults)
    cfg = Config.fromfile(osp.join(
        CFG_DIR, 'mask-rcnn_r18-narrow_fpn_clip-head_vl-plm_ovd-shapes.py'))
    block = labeler_config(cfg)
    assert block['type'] == 'VLPLMLabeler'
    assert block['proposal_checkpoint'] is None
    assert osp.isfile(osp.join(ROOT, block['proposal_config']))
    assert block['clip'] == cfg.clip and block['vocabulary'] == cfg.vocabulary
    assert run_defaults(cfg) == {'workers': 2}
    io = labeler_io(cfg)
    assert io['out'] == 'data/ovd_shapes/pseudo_labels/vl-plm_novel_train.json'
    assert io['ann_file'].endswith('annotations/instances_train.json')
    ann = osp.join(shapes_root, 'annotations', 'instances_train.json')
    with pytest.raises(ValueError, match='proposal_checkpoint is not set'):
        build_labeler(block, ann)
    labeler = build_labeler(dict(block, proposal_checkpoint='gen.pth'), ann)
    s = labeler.settings
    assert (s.label_space, s.tau, s.max_regions) == ('novel+base', 0.8, 100)
    assert (s.topk, s.rpn_nms_iou, s.refine_iters, s.scales, s.nms_iou) == (
        1000, 0.3, 10, (1.0, 1.5), 0.6)
    assert labeler.space.targets == [c for c in CLASSES
                                     if c in NOVEL_CLASSES]
    assert labeler.space.names[5:] == [c for c in CLASSES
                                       if c not in NOVEL_CLASSES]
    assert labeler.clip == dict(cfg.clip, precision='fp32')
