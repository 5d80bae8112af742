"""OVDCocoMetric(constrained=True): XPM's constrained setting (Sec. 4.1).

Three 100x100 images, base class 'A' and novel class 'B':
image 1 holds only A, image 2 only B, image 3 both. Every true-positive
detection is the ground-truth box itself (IoU 1), so AP@[.5:.95] == AP50.
"""
import json

import numpy as np
import pytest
import torch
from mmdet.registry import METRICS
from mmdet.structures import DetDataSample
from mmengine.evaluator import Evaluator
from mmengine.structures import InstanceData

import ovd_ext.evaluation  # noqa: F401  (registers the metrics)

CLASSES = ['A', 'B']
A_BOX, B_BOX, FAR_BOX = [10, 10, 20, 20], [50, 50, 20, 20], [70, 5, 20, 20]
CONSTRAINED_KEYS = {f'bbox_{a}_{s}_constrained' for a in ('AP50', 'AP')
                    for s in ('base', 'novel')}
GENERALIZED_KEYS = {f'bbox_{a}_{s}' for a in ('AP50', 'AP')
                    for s in ('base', 'novel', 'all')}


def _gt(anns: list) -> dict:
    """COCO json of images 1-3 and ``anns`` = [(img, cat, box, crowd)]."""
    return dict(
        images=[dict(id=i, width=100, height=100, file_name=f'{i}.jpg')
                for i in (1, 2, 3)],
        categories=[dict(id=1, name='A'), dict(id=2, name='B')],
        annotations=[
            dict(id=k + 1, image_id=img, category_id=cat, bbox=box,
                 area=box[2] * box[3], iscrowd=crowd)
            for k, (img, cat, box, crowd) in enumerate(anns)])


# (img, cat, box, iscrowd): image 1 only A, image 2 only B, image 3 both
GT = [(1, 1, A_BOX, 0), (2, 2, B_BOX, 0), (3, 1, A_BOX, 0), (3, 2, B_BOX, 0)]
# (img, label, box, score): true positives at 0.9 / 0.8, plus
#  - an A false positive at 0.95 on image 2 (no A there): ranked first
#  - a B false positive at 0.85 on image 1 (no B there): ranked second
DETS = [(1, 0, A_BOX, 0.9), (3, 0, A_BOX, 0.8), (2, 0, A_BOX, 0.95),
        (2, 1, B_BOX, 0.9), (3, 1, B_BOX, 0.8), (1, 1, FAR_BOX, 0.85)]

# 101-point interpolated AP (recall thresholds 0, .01, ..., 1), nGT = 2:
# base  (A): FP .95, TP .9, TP .8 -> precision 0, 1/2, 2/3 at recall
#   0, 1/2, 1; interpolated (max to the right) 2/3 at every threshold.
GEN_BASE = 2 / 3
# novel (B): TP .9, FP .85, TP .8 -> precision 1, 1/2, 2/3 at recall
#   1/2, 1/2, 1; interpolated 1 at the 51 thresholds 0..0.50 and 2/3 at
#   the 50 thresholds 0.51..1.
GEN_NOVEL = (51 * 1 + 50 * 2 / 3) / 101  # = 253 / 303


def _evaluate(tmp_path, anns: list, dets: list, **kwargs) -> dict:
    path = tmp_path / 'gt.json'
    path.write_text(json.dumps(_gt(anns)))
    evaluator = Evaluator(METRICS.build(dict(
        type='OVDCocoMetric', ann_file=str(path), base_classes=['A'],
        novel_classes=['B'], **kwargs)))
    evaluator.dataset_meta = dict(classes=CLASSES)
    samples = []
    for img in (1, 2, 3):
        mine = [d for d in dets if d[0] == img]
        boxes = np.array([d[2] for d in mine], np.float32).reshape(-1, 4)
        boxes[:, 2:] += boxes[:, :2]  # xywh -> xyxy
        sample = DetDataSample(metainfo=dict(img_id=img,
                                             ori_shape=(100, 100)))
        sample.pred_instances = InstanceData(
            bboxes=torch.from_numpy(boxes),
            scores=torch.tensor([d[3] for d in mine], dtype=torch.float32),
            labels=torch.tensor([d[1] for d in mine], dtype=torch.long))
        samples.append(sample)
    evaluator.process(data_samples=samples)
    res = evaluator.evaluate(len(samples))
    return {k.split('/', 1)[1]: v for k, v in res.items()}


def test_constrained_drops_images_without_the_split(tmp_path):
    res = _evaluate(tmp_path, GT, DETS, constrained=True)
    assert set(res) == GENERALIZED_KEYS | CONSTRAINED_KEYS
    # generalized: all three images; each split's FP lies on an image
    # without that split's classes
    assert res['bbox_AP50_base'] == pytest.approx(GEN_BASE, abs=1e-6)
    assert res['bbox_AP50_novel'] == pytest.approx(GEN_NOVEL, abs=1e-6)
    assert res['bbox_AP50_all'] == pytest.approx(
        (GEN_BASE + GEN_NOVEL) / 2, abs=1e-6)
    # constrained: base on images {1, 3}, novel on {2, 3}; the FPs are on
    # images 2 and 1 respectively, so both splits are perfect
    for split in ('base', 'novel'):
        assert res[f'bbox_AP50_{split}_constrained'] == pytest.approx(1.0)
        assert res[f'bbox_AP_{split}_constrained'] == pytest.approx(1.0)
        # IoU-1 true positives: AP@[.5:.95] == AP50
        assert res[f'bbox_AP_{split}'] == pytest.approx(
            res[f'bbox_AP50_{split}'], abs=1e-6)


def test_constrained_keeps_false_positives_on_split_images(tmp_path):
    """Only the image set changes: a B false positive on image 3 (which has
    B) counts in both settings; one on image 1 only in the generalized."""
    dets = [d for d in DETS if d[0] != 1 or d[1] != 1]  # drop img-1 B FP
    dets.append((3, 1, FAR_BOX, 0.85))
    res = _evaluate(tmp_path, GT, dets, constrained=True)
    assert res['bbox_AP50_novel'] == pytest.approx(GEN_NOVEL, abs=1e-6)
    assert res['bbox_AP50_novel_constrained'] == pytest.approx(
        GEN_NOVEL, abs=1e-6)
    assert res['bbox_AP50_base_constrained'] == pytest.approx(1.0)


def test_crowd_annotation_makes_an_image_of_the_split(tmp_path):
    """A crowd-only B annotation on image 1 puts image 1 in the novel
    image set, so the B false positive there (outside the crowd box)
    counts again: constrained novel == generalized novel."""
    anns = GT + [(1, 2, [0, 60, 30, 30], 1)]
    res = _evaluate(tmp_path, anns, DETS, constrained=True)
    assert res['bbox_AP50_novel'] == pytest.approx(GEN_NOVEL, abs=1e-6)
    assert res['bbox_AP50_novel_constrained'] == pytest.approx(
        GEN_NOVEL, abs=1e-6)


def test_default_adds_no_keys_and_keeps_values(tmp_path):
    plain = _evaluate(tmp_path, GT, DETS)
    assert set(plain) == GENERALIZED_KEYS
    both = _evaluate(tmp_path, GT, DETS, constrained=True)
    assert {k: both[k] for k in plain} == plain


def test_split_without_images_gives_minus_one(tmp_path):
    """All-base ground truth: no novel image, so novel constrained is -1
    (as the generalized novel figure, which has no novel GT)."""
    anns = [a for a in GT if a[1] == 1]
    res = _evaluate(tmp_path, anns, DETS, constrained=True)
    assert res['bbox_AP50_novel_constrained'] == -1.0
    assert res['bbox_AP_novel_constrained'] == -1.0
    assert res['bbox_AP50_novel'] == -1.0
    assert res['bbox_AP50_base'] == pytest.approx(GEN_BASE, abs=1e-6)
    assert res['bbox_AP50_base_constrained'] == pytest.approx(1.0)
