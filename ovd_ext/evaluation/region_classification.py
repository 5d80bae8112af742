"""Region classification accuracy with ground-truth boxes (RegionCLIP
Table 4, "GT" boxes): how often the top-1 class of an annotated box is its
label, over all boxes and over the base / novel classes' boxes.

The detector (``RegionCLIPZeroShotDetector(proposals='gt')``) gives every
prediction a ``gt_index``, the annotated box it classifies; the top-1 class
of box ``i`` is the label of its highest-scoring prediction. AP of the same
predictions comes from the box metrics (e.g. ``OVDCocoMetric``).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from mmdet.registry import METRICS
from mmengine.evaluator import BaseMetric

from ..utils.class_splits import resolve_class_names


def top1_per_box(num_boxes: int, gt_index: np.ndarray, labels: np.ndarray,
                 scores: np.ndarray) -> np.ndarray:
    """``[num_boxes]`` label of the best prediction of each box (-1: the
    box has no prediction)."""
    out = np.full(num_boxes, -1, dtype=np.int64)
    best = np.full(num_boxes, -np.inf)
    for i, lab, s in zip(gt_index, labels, scores):
        if s > best[i]:
            best[i], out[i] = s, lab
    return out


@METRICS.register_module()
class RegionClassificationMetric(BaseMetric):
    """Top-1 accuracy of ground-truth box classification, in [0, 1] like
    the AP metrics (the results table shows percent): ``acc`` (all boxes),
    ``acc_base``, ``acc_novel``; -1 where a split has no box.

    Args:
        novel_classes: names of the novel classes (the rest are base): a
            list, a txt file with one name per line, or an LVIS json whose
            rare classes are novel (OV-LVIS).
    """

    default_prefix = 'region_cls'

    def __init__(self, novel_classes: Sequence[str] | str = (),
                 collect_device: str = 'cpu',
                 prefix: str | None = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.novel_classes = tuple(resolve_class_names(novel_classes))

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for s in data_samples:
            gt = s['gt_instances']['labels'].cpu().numpy()
            pred = s['pred_instances']
            if 'gt_index' not in pred:
                raise KeyError(
                    f"{s.get('img_path')}: predictions carry no gt_index; "
                    "use RegionCLIPZeroShotDetector(proposals='gt')")
            top1 = top1_per_box(len(gt), pred['gt_index'].cpu().numpy(),
                                pred['labels'].cpu().numpy(),
                                pred['scores'].cpu().numpy())
            self.results.append((gt, top1))

    def compute_metrics(self, results: list) -> dict:
        classes = list(self.dataset_meta['classes'])
        unknown = sorted(set(self.novel_classes) - set(classes))
        if unknown:
            raise ValueError(f'novel classes {unknown} are not classes of '
                             'the dataset')
        novel = np.array([c in self.novel_classes for c in classes])
        gt = np.concatenate([r[0] for r in results] or [np.zeros(0, int)])
        top1 = np.concatenate([r[1] for r in results] or [np.zeros(0, int)])
        correct = gt == top1
        is_novel = novel[gt] if len(gt) else np.zeros(0, bool)

        def rate(mask: np.ndarray) -> float:
            return float(correct[mask].mean()) if mask.any() else -1.0
        return {'acc': rate(np.ones_like(correct)),
                'acc_base': rate(~is_novel), 'acc_novel': rate(is_novel)}
