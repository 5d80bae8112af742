"""Whole-image boxes of the augmented image (RichSem Sec. 3.1).

For extra classification data the location ``b`` of Eq. 2 is the coarse
whole-image box ``b^img = (0, 0, w, h)`` "where h, w is the height and width
of the augmented image". Place this transform after every geometric
augmentation (Resize, RandomCrop, RandomFlip, ...) of the image-label
pipeline (:class:`~ovd_ext.datasets.ImageLabelDataset`).
"""
from __future__ import annotations

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmdet.registry import TRANSFORMS
from mmdet.structures.bbox import HorizontalBoxes


@TRANSFORMS.register_module()
class WholeImageBox(BaseTransform):
    """Reset every ``gt_bboxes`` row to ``[0, 0, w, h]`` of ``img_shape``.

    Required keys: ``gt_bboxes``, ``img_shape`` (``(h, w)``).
    Modified keys: ``gt_bboxes`` (a float32 ``HorizontalBoxes`` with the same
    number of rows). Added keys: ``image_label`` (True). Labels and ignore
    flags are left as they are.
    """

    def transform(self, results: dict) -> dict:
        if results.get('gt_bboxes') is None:
            raise KeyError(
                'WholeImageBox needs gt_bboxes: put '
                'LoadAnnotations(with_bbox=True) before it (the dataset, '
                'e.g. ImageLabelDataset, gives one whole-image instance per '
                f'label); image {results.get("img_path")}')
        h, w = results['img_shape'][:2]
        num = len(results['gt_bboxes'])
        boxes = np.tile(np.array([[0, 0, w, h]], np.float32), (num, 1))
        results['gt_bboxes'] = HorizontalBoxes(
            torch.from_numpy(boxes.reshape(num, 4)))
        results['image_label'] = True
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}()'
