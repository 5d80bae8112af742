"""Every OV baseline config builds, trains one step and predicts (CPU)."""
import glob
import os.path as osp

import pytest
import torch
from mmdet.datasets import LVISV1Dataset
from mmdet.registry import MODELS
from mmdet.testing import demo_mm_inputs
from mmdet.utils import register_all_modules
from mmengine.config import Config

import ovd_ext  # noqa: F401

CONFIG_DIR = osp.join(osp.dirname(__file__), '..', '..', 'configs', 'ov_baselines')
CONFIGS = sorted(glob.glob(osp.join(CONFIG_DIR, '*_ov-*.py')))


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_baseline_config_train_step_and_predict(path, vocab_factory):
    register_all_modules()
    cfg = Config.fromfile(path)
    head = cfg.model.roi_head.bbox_head
    if 'ov-lvis' in path:
        classes = list(LVISV1Dataset.METAINFO['classes'])
        head.novel_classes = classes[:5]
        head.loss_cls.class_frequency = [10.0] * len(classes)
    else:
        classes = list(cfg.ov_coco_classes)
        assert len(cfg.ov_coco_base_classes) == 48
        assert len(cfg.ov_coco_novel_classes) == 17
        assert set(cfg.ov_coco_base_classes) | set(cfg.ov_coco_novel_classes) \
            == set(classes)
    head.vocabulary = vocab_factory(classes, dim=32)
    cfg.model.backbone.init_cfg = None
    model = MODELS.build(cfg.model)
    assert model.roi_head.bbox_head.num_classes == len(classes)

    with_mask = model.roi_head.with_mask
    packed = demo_mm_inputs(2, [[3, 96, 128], [3, 128, 96]],
                            num_classes=len(classes) // 3, with_mask=with_mask)
    data = model.data_preprocessor(packed, True)
    model.train()
    losses = model(**data, mode='loss')
    assert 'loss_cls' in losses and torch.isfinite(losses['loss_cls'])
    assert ('loss_mask' in losses) == with_mask
    model.eval()
    with torch.no_grad():
        results = model(**model.data_preprocessor(packed, False), mode='predict')
    assert len(results) == 2
    labels = results[0].pred_instances.labels
    assert labels.numel() == 0 or labels.max() < len(classes)


def test_coco_split_in_configs_matches_the_library():
    from ovd_ext.evaluation import (COCO_OVD_ALL_CLASSES,
                                    COCO_OVD_BASE_CLASSES,
                                    COCO_OVD_NOVEL_CLASSES)
    cfg = Config.fromfile(CONFIGS[0])
    assert tuple(cfg.ov_coco_classes) == tuple(COCO_OVD_ALL_CLASSES)
    assert tuple(cfg.ov_coco_base_classes) == tuple(COCO_OVD_BASE_CLASSES)
    assert tuple(cfg.ov_coco_novel_classes) == tuple(COCO_OVD_NOVEL_CLASSES)
