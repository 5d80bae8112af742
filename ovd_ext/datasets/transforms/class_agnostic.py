"""Class-agnostic training labels (VL-PLM's proposal generator, Sec. 3.2).

VL-PLM "ignores the category information of the training set and trains a
class-agnostic proposal generator": every ground-truth box becomes one
"object" class. The dataset keeps its real classes (so base/novel splits and
dropping of novel annotations still work); this transform, placed after
``LoadAnnotations``, maps every label to ``label``.
"""
from __future__ import annotations

import numpy as np
from mmcv.transforms import BaseTransform
from mmdet.registry import TRANSFORMS


@TRANSFORMS.register_module()
class ClassAgnosticLabels(BaseTransform):
    """Set every ``gt_bboxes_labels`` entry to ``label`` (default 0).

    Required keys: ``gt_bboxes_labels`` (absent: nothing to do, e.g. at test
    time). Modified keys: ``gt_bboxes_labels`` (same length and dtype).
    """

    def __init__(self, label: int = 0) -> None:
        if label < 0:
            raise ValueError(f'label must be >= 0, got {label}')
        self.label = int(label)

    def transform(self, results: dict) -> dict:
        labels = results.get('gt_bboxes_labels')
        if labels is not None:
            results['gt_bboxes_labels'] = np.full_like(
                np.asarray(labels), self.label)
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(label={self.label})'
