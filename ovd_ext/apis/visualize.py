"""Readable pictures of detections: ground truth beside predictions.

The OVD-Shapes images are 128-192 px; drawn at that size the class names
overlap the objects. :func:`draw_comparison` enlarges the image first (boxes
and masks scaled with it), draws the ground truth (dataset class names) on
the left and the predictions (the model's current vocabulary, e.g. a custom
one) on the right with mmdet's ``DetLocalVisualizer``, and writes one PNG.
"""
from __future__ import annotations

import os
import os.path as osp
from typing import Sequence

import mmcv
import numpy as np
import torch
from mmdet.structures import DetDataSample
from mmdet.visualization import DetLocalVisualizer
from mmengine.structures import InstanceData

from ..utils.images import read_image

_GAP = 8          # white pixels between the two panels
_TITLE_H = 28     # title band above each panel


def coco_instances(coco: dict, image_id: int, classes: Sequence[str],
                   height: int, width: int) -> InstanceData:
    """Ground truth of one image of a COCO dict as mmdet ``InstanceData``
    (labels index ``classes`` by category name; masks decoded from the
    polygons / RLE)."""
    from pycocotools import mask as mask_utils
    names = {c['id']: c['name'] for c in coco['categories']}
    index = {n: i for i, n in enumerate(classes)}
    boxes, labels, masks = [], [], []
    for a in coco['annotations']:
        if a['image_id'] != image_id or names[a['category_id']] not in index:
            continue
        x, y, w, h = a['bbox']
        boxes.append([x, y, x + w, y + h])
        labels.append(index[names[a['category_id']]])
        seg = a.get('segmentation')
        if seg:
            rle = (mask_utils.frPyObjects(seg, height, width)
                   if isinstance(seg, list) else seg)
            if isinstance(rle, list):
                rle = mask_utils.merge(rle)
            if isinstance(rle.get('counts'), list):
                rle = mask_utils.frPyObjects(rle, height, width)
            masks.append(mask_utils.decode(rle).astype(bool))
        else:
            masks.append(np.zeros((height, width), bool))
    inst = InstanceData()
    inst.bboxes = torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4)
    inst.labels = torch.tensor(labels, dtype=torch.long)
    inst.masks = (np.stack(masks) if masks
                  else np.zeros((0, height, width), bool))
    return inst


def enlarge(inst: InstanceData, scale: int) -> InstanceData:
    """Boxes times ``scale``; masks repeated ``scale`` times per pixel."""
    out = inst.clone()
    out.bboxes = inst.bboxes * scale
    if 'masks' in inst:
        m = inst.masks
        m = m.cpu().numpy() if isinstance(m, torch.Tensor) else np.asarray(m)
        out.masks = m.repeat(scale, axis=1).repeat(scale, axis=2)
    return out


def _panel(vis: DetLocalVisualizer, image: np.ndarray, inst: InstanceData,
           classes: Sequence[str], title: str, pred: bool,
           score_thr: float) -> np.ndarray:
    vis.dataset_meta = {'classes': tuple(classes)}
    sample = DetDataSample()
    if pred:
        sample.pred_instances = inst
    else:
        sample.gt_instances = inst
    vis.add_datasample(title, image, sample, draw_gt=not pred,
                       draw_pred=pred, show=False, pred_score_thr=score_thr)
    drawn = vis.get_image()
    band = np.full((_TITLE_H, drawn.shape[1], 3), 255, np.uint8)
    import cv2
    cv2.putText(band, title, (6, _TITLE_H - 9), cv2.FONT_HERSHEY_SIMPLEX,
                0.55, (0, 0, 0), 1, cv2.LINE_AA)
    return np.concatenate([band, drawn], axis=0)


def draw_comparison(image_path: str, gt: InstanceData,
                    gt_classes: Sequence[str], pred: InstanceData,
                    pred_classes: Sequence[str], out_file: str,
                    scale: int = 4, score_thr: float = 0.5,
                    pred_title: str = 'predictions') -> str:
    """Write ``out_file``: enlarged image with the ground truth (left) and
    the predictions above ``score_thr`` (right), class names on both."""
    image = read_image(image_path)[..., ::-1]          # BGR -> RGB
    big = np.ascontiguousarray(
        image.repeat(scale, axis=0).repeat(scale, axis=1))
    vis = DetLocalVisualizer(name=f'cmp-{os.getpid()}-{id(out_file)}',
                             line_width=2, alpha=0.5)
    left = _panel(vis, big, enlarge(gt, scale), gt_classes, 'ground truth',
                  False, score_thr)
    right = _panel(vis, big, enlarge(pred, scale), pred_classes, pred_title,
                   True, score_thr)
    gap = np.full((left.shape[0], _GAP, 3), 255, np.uint8)
    os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
    mmcv.imwrite(np.concatenate([left, gap, right], axis=1)[..., ::-1],
                 out_file)
    return out_file
