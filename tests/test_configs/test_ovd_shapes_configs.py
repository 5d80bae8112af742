"""OVD-Shapes configs: class lists, a short training run, evaluation keys."""
import os.path as osp

import pytest
import torch
from mmdet.registry import DATASETS, MODELS
from mmdet.utils import register_all_modules
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.runner import Runner

import ovd_ext  # noqa: F401
from ovd_ext import shapes
from ovd_ext.shapes import generate_ovd_shapes

ROOT = osp.join(osp.dirname(__file__), '..', '..')
BASELINE = osp.join(ROOT, 'configs', 'ov_baselines',
                    'mask-rcnn_r18-narrow_fpn_clip-head_ovd-shapes.py')
ORACLE = BASELINE.replace('.py', '-oracle.py')


@pytest.fixture(scope='module')
def tiny_shapes(tmp_path_factory):
    root = tmp_path_factory.mktemp('shapes')
    generate_ovd_shapes(str(root), num_train=24, num_val=6, num_imagelabel=2,
                        seed=3, progress=False)
    return str(root)


def shapes_cfg(path, data_root, vocab):
    register_all_modules()
    cfg = Config.fromfile(path)
    cfg.model.roi_head.bbox_head.vocabulary = vocab
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = data_root + '/'
        cfg[loader].num_workers = 0
        cfg[loader].persistent_workers = False
    for ev in cfg.test_evaluator:
        ev.ann_file = osp.join(data_root, 'annotations',
                               osp.basename(ev.ann_file))
    cfg.val_evaluator = cfg.test_evaluator
    return cfg


def test_config_class_lists_match_the_generator():
    cfg = Config.fromfile(BASELINE)
    assert cfg.ovd_shapes_classes == shapes.CLASSES
    assert cfg.ovd_shapes_base_classes == shapes.BASE_CLASSES
    assert cfg.ovd_shapes_novel_classes == shapes.NOVEL_CLASSES
    assert cfg.model.roi_head.bbox_head.novel_classes == shapes.NOVEL_CLASSES
    oracle = Config.fromfile(ORACLE)
    assert oracle.model.roi_head.bbox_head.novel_classes is None
    assert oracle.train_dataloader.dataset.drop_novel is False


def test_short_training_lowers_the_loss(tiny_shapes, vocab_factory):
    # the pipeline's RandomFlip draws from numpy's global generator: seed all
    # three so the loss curve is the same on every run
    from mmengine.runner import set_random_seed
    set_random_seed(0)
    cfg = shapes_cfg(BASELINE, tiny_shapes,
                     vocab_factory(shapes.CLASSES, dim=128))
    model = MODELS.build(cfg.model)
    model.train()
    ds = DATASETS.build(cfg.train_dataloader.dataset)
    assert ds.num_dropped_novel > 0
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3)
    losses = []
    for it in range(30):
        idx = [(4 * it + k) % len(ds) for k in range(4)]
        data = model.data_preprocessor(pseudo_collate([ds[i] for i in idx]), True)
        loss, _ = model.parse_losses(model(**data, mode='loss'))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    first, last = sum(losses[:5]) / 5, sum(losses[-5:]) / 5
    assert last < 0.8 * first, (first, last)


def test_evaluation_reports_ov_and_lvis_keys(tiny_shapes, vocab_factory,
                                             tmp_path):
    cfg = shapes_cfg(BASELINE, tiny_shapes,
                     vocab_factory(shapes.CLASSES, dim=128))
    cfg.work_dir = str(tmp_path)
    cfg.load_from = None
    metrics = Runner.from_cfg(cfg).test()
    for key in ('coco/bbox_AP50_base', 'coco/bbox_AP50_novel',
                'coco/bbox_AP50_all', 'coco/segm_AP50_novel', 'lvis/bbox_AP',
                'lvis/bbox_APr', 'lvis/bbox_APc', 'lvis/bbox_APf',
                'lvis/segm_APr'):
        assert key in metrics, key
        assert -1 <= metrics[key] <= 1
