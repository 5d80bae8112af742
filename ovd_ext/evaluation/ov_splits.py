"""Standard open-vocabulary class splits as plain data, plus LVIS helpers
that read an annotation file and ask the one resolver
(:mod:`ovd_ext.utils.class_splits`).

COCO OVD split: 48 base / 17 novel classes of the 65 used by OVR-CNN
(Zareian et al.) following Bansal et al., and adopted by ViLD, Detic and
RegionCLIP. Names follow mmdet's ``CocoDataset`` spelling; both lists are in
COCO category-id order.

LVIS OVD split: the rare ('r') categories of LVIS v1 are the novel classes;
common and frequent ones are base.
"""
import json
import os.path as osp
from typing import Dict, List, Tuple, Union

from mmdet.datasets import CocoDataset

from ..utils.class_splits import (LVIS_FREQUENCIES, frequency_groups,
                                  rare_category_ids, rare_classes,
                                  split_classes)

__all__ = [
    'COCO_OVD_BASE_CLASSES', 'COCO_OVD_NOVEL_CLASSES', 'COCO_OVD_ALL_CLASSES',
    'LVIS_FREQUENCIES', 'lvis_frequency_groups', 'lvis_rare_classes',
    'lvis_rare_category_ids', 'split_classes'
]

COCO_OVD_BASE_CLASSES: Tuple[str, ...] = (
    'person', 'bicycle', 'car', 'motorcycle', 'train', 'truck', 'boat',
    'bench', 'bird', 'horse', 'sheep', 'bear', 'zebra', 'giraffe', 'backpack',
    'handbag', 'suitcase', 'frisbee', 'skis', 'kite', 'surfboard', 'bottle',
    'fork', 'spoon', 'bowl', 'banana', 'apple', 'sandwich', 'orange',
    'broccoli', 'carrot', 'pizza', 'donut', 'chair', 'bed', 'toilet', 'tv',
    'laptop', 'mouse', 'remote', 'microwave', 'oven', 'toaster',
    'refrigerator', 'book', 'clock', 'vase', 'toothbrush')

COCO_OVD_NOVEL_CLASSES: Tuple[str, ...] = (
    'airplane', 'bus', 'cat', 'dog', 'cow', 'elephant', 'umbrella', 'tie',
    'snowboard', 'skateboard', 'cup', 'knife', 'cake', 'couch', 'keyboard',
    'sink', 'scissors')

#: The 65 classes of the COCO OVD benchmark in COCO category-id order, which
#: is the label order mmdet's CocoDataset gives them (and so the row order of
#: an OV-COCO vocabulary file).
COCO_OVD_ALL_CLASSES: Tuple[str, ...] = tuple(
    c for c in CocoDataset.METAINFO['classes']
    if c in COCO_OVD_BASE_CLASSES + COCO_OVD_NOVEL_CLASSES)

LvisSource = Union[str, dict]


def _load_lvis_categories(source: LvisSource) -> Tuple[List[dict], str]:
    """Return the ``categories`` list of an LVIS json (path or loaded dict)
    and a name for it to use in error messages."""
    if isinstance(source, str):
        if not osp.isfile(source):
            raise FileNotFoundError(
                f'LVIS annotation file not found: {source}')
        with open(source) as f:
            data = json.load(f)
        where = source
    elif isinstance(source, dict):
        data, where = source, '<LVIS dict>'
    else:
        raise TypeError('expected an LVIS json path or dict, got '
                        f'{type(source).__name__}')
    if 'categories' not in data:
        raise ValueError(f'{where}: no "categories" list')
    return data['categories'], where


def lvis_frequency_groups(source: LvisSource) -> Dict[str, List[dict]]:
    """:func:`~ovd_ext.utils.frequency_groups` of an LVIS json (path or
    loaded dict): ``{'r': [...], 'c': [...], 'f': [...]}`` of category
    dicts, each list in the json's order."""
    return frequency_groups(*_load_lvis_categories(source))


def lvis_rare_classes(source: LvisSource) -> List[str]:
    """Names of the rare (= OVD novel) categories of an LVIS json, by
    category id (:func:`~ovd_ext.utils.rare_classes`)."""
    return rare_classes(*_load_lvis_categories(source))


def lvis_rare_category_ids(source: LvisSource) -> List[int]:
    """Ids of the rare (= OVD novel) categories of an LVIS json, sorted
    (:func:`~ovd_ext.utils.rare_category_ids`)."""
    return rare_category_ids(*_load_lvis_categories(source))
