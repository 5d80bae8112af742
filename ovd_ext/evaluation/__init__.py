"""Open-vocabulary detection metrics (registered in mmdet's METRICS)."""
from .fast_lvis_eval import (LVIS_AP_KEYS, LVIS_AR_KEYS, LVISEvalResult,
                             evaluate_lvis, limit_dets_per_image,
                             prepare_lvis_dets, summarize_lvis)
from .lvis_gt import LVISGroundTruth, build_lvis_gt, load_lvis_gt
from .lvis_metric import OVLVISMetric
from .ov_coco_metric import OVDCocoMetric
from .region_classification import RegionClassificationMetric
from .ov_splits import (COCO_OVD_ALL_CLASSES, COCO_OVD_BASE_CLASSES,
                        COCO_OVD_NOVEL_CLASSES, LVIS_FREQUENCIES,
                        lvis_frequency_groups, lvis_rare_category_ids,
                        lvis_rare_classes, split_classes)

__all__ = [
    'RegionClassificationMetric',
    'OVLVISMetric', 'OVDCocoMetric', 'evaluate_lvis', 'prepare_lvis_dets',
    'limit_dets_per_image', 'summarize_lvis', 'LVISEvalResult',
    'LVISGroundTruth', 'build_lvis_gt', 'load_lvis_gt', 'LVIS_AP_KEYS',
    'LVIS_AR_KEYS', 'COCO_OVD_BASE_CLASSES', 'COCO_OVD_NOVEL_CLASSES',
    'COCO_OVD_ALL_CLASSES', 'LVIS_FREQUENCIES', 'lvis_frequency_groups',
    'lvis_rare_classes', 'lvis_rare_category_ids', 'split_classes'
]
