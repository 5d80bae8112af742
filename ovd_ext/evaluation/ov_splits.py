"""Standard open-vocabulary class splits as plain data, plus LVIS helpers.

COCO OVD split: 48 base / 17 novel classes of the 65 used by OVR-CNN
(Zareian et al.) following Bansal et al., and adopted by ViLD, Detic and
RegionCLIP. Names follow mmdet's ``CocoDataset`` spelling; both lists are in
COCO category-id order.

LVIS OVD split: the rare ('r') categories of LVIS v1 are the novel classes;
common and frequent ones are base.
"""
import json
import os.path as osp
from typing import Dict, List, Sequence, Tuple, Union

from mmdet.datasets import CocoDataset

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

#: LVIS frequency labels in the order lvis-api groups them (APr, APc, APf).
LVIS_FREQUENCIES: Tuple[str, ...] = ('r', 'c', 'f')

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
    """Group the categories of an LVIS json by their ``frequency`` field.

    Args:
        source: path to an LVIS-format json, or the loaded dict.

    Returns:
        ``{'r': [...], 'c': [...], 'f': [...]}`` of category dicts, each list
        in the json's order.
    """
    cats, where = _load_lvis_categories(source)
    groups: Dict[str, List[dict]] = {f: [] for f in LVIS_FREQUENCIES}
    for cat in cats:
        freq = cat.get('frequency')
        if freq not in groups:
            raise ValueError(
                f'{where}: category id {cat.get("id")} ({cat.get("name")!r}) '
                f'has frequency {freq!r}; expected one of '
                f'{list(LVIS_FREQUENCIES)}')
        groups[freq].append(cat)
    return groups


def lvis_rare_classes(source: LvisSource) -> List[str]:
    """Names of the rare (= OVD novel) categories of an LVIS json."""
    return [c['name'] for c in lvis_frequency_groups(source)['r']]


def lvis_rare_category_ids(source: LvisSource) -> List[int]:
    """Ids of the rare (= OVD novel) categories of an LVIS json."""
    return [int(c['id']) for c in lvis_frequency_groups(source)['r']]


def split_classes(classes: Sequence[str],
                  novel: Sequence[str]) -> Tuple[List[str], List[str]]:
    """Split ``classes`` into (base, novel) keeping their order.

    Raises:
        ValueError: if a name in ``novel`` is not one of ``classes``.
    """
    known = set(classes)
    missing = [n for n in novel if n not in known]
    if missing:
        raise ValueError(f'novel classes {missing} are not among the '
                         f'{len(classes)} dataset classes')
    novel_set = set(novel)
    return ([c for c in classes if c not in novel_set],
            [c for c in classes if c in novel_set])
