"""COCO 48/17 split data and LVIS rare-class helpers."""
import json

import pytest
from mmdet.datasets import CocoDataset

from ovd_ext.evaluation import (COCO_OVD_ALL_CLASSES, COCO_OVD_BASE_CLASSES,
                                COCO_OVD_NOVEL_CLASSES, lvis_frequency_groups,
                                lvis_rare_category_ids, lvis_rare_classes,
                                split_classes)
from ovd_ext.testing.synthetic_lvis import make_lvis_gt


def test_coco_ovd_split():
    assert len(COCO_OVD_BASE_CLASSES) == 48
    assert len(COCO_OVD_NOVEL_CLASSES) == 17
    assert not set(COCO_OVD_BASE_CLASSES) & set(COCO_OVD_NOVEL_CLASSES)
    assert set(COCO_OVD_NOVEL_CLASSES) == {
        'airplane', 'bus', 'cat', 'dog', 'cow', 'elephant', 'umbrella', 'tie',
        'snowboard', 'skateboard', 'cup', 'knife', 'cake', 'couch',
        'keyboard', 'sink', 'scissors'
    }
    coco = list(CocoDataset.METAINFO['classes'])
    assert set(COCO_OVD_ALL_CLASSES) <= set(coco)  # mmdet's spelling
    # both lists are in COCO category order
    for split in (COCO_OVD_BASE_CLASSES, COCO_OVD_NOVEL_CLASSES):
        assert list(split) == sorted(split, key=coco.index)
    # the 15 COCO classes left out of the OVD benchmark
    assert set(coco) - set(COCO_OVD_ALL_CLASSES) == {
        'traffic light', 'fire hydrant', 'stop sign', 'parking meter',
        'hot dog', 'baseball bat', 'baseball glove', 'tennis racket',
        'wine glass', 'sports ball', 'potted plant', 'dining table',
        'cell phone', 'teddy bear', 'hair drier'
    }


def test_lvis_rare_from_json(tmp_path):
    gt = make_lvis_gt(num_images=3, num_categories=20, seed=0)
    path = tmp_path / 'lvis.json'
    path.write_text(json.dumps(gt))
    rare = [c for c in gt['categories'] if c['frequency'] == 'r']
    assert rare, 'seed gives at least one rare category'
    assert lvis_rare_classes(str(path)) == [c['name'] for c in rare]
    assert lvis_rare_category_ids(gt) == [c['id'] for c in rare]
    groups = lvis_frequency_groups(gt)
    assert sum(len(v) for v in groups.values()) == 20
    gt['categories'][3]['frequency'] = 'rare'
    with pytest.raises(ValueError, match=r'category id .* frequency'):
        lvis_rare_classes(gt)
    with pytest.raises(FileNotFoundError, match='missing.json'):
        lvis_rare_classes(str(tmp_path / 'missing.json'))


def test_split_classes():
    base, novel = split_classes(['a', 'b', 'c', 'd'], ['c', 'a'])
    assert base == ['b', 'd'] and novel == ['a', 'c']
    with pytest.raises(ValueError, match="'x'"):
        split_classes(['a'], ['x'])
