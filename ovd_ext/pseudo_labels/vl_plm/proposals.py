"""Class-agnostic region proposals of VL-PLM (Sec. 3.2, Fig. 2 top).

A two-stage detector trained with one "object" class gives:

1. RPN proposals with NMS at IoU 0.3 (Sec. 4.1) and the top k = 1000 kept
   (supplement B.4), each with its RPN score ``S_RPN`` (the sigmoid objectness
   after NMS, Eq. 4);
2. the second stage's score threshold and NMS removed: the RoI head's box
   regression is applied N = 10 times (Sec. 4.3: quality "converges after
   about 10 steps"), each time re-pooling RoI features at the refined boxes
   (Fig. 3b).

The refined box inherits the RPN score of the proposal it came from.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..detector import (inference_pipeline, load_two_stage_detector,
                        preprocess)

#: VL-PLM's name for the core loader (the class-agnostic generator).
load_proposal_generator = load_two_stage_detector

#: Sec. 4.1: "We set a NMS threshold of 0.3 for the RPN".
RPN_NMS_IOU = 0.3
#: Supplement B.4: "we adopt top 1000 boxes from RPN".
RPN_TOPK = 1000
#: Sec. 4.3 / Fig. 4: refinement quality converges after about 10 steps.
REFINE_ITERS = 10


@dataclass
class Proposals:
    """Proposals of one image in original image pixels (xyxy), sorted by
    descending RPN score, with the refined boxes after N RoI-head passes."""
    boxes: torch.Tensor          # [k, 4] refined boxes (== rpn_boxes if N=0)
    rpn_boxes: torch.Tensor      # [k, 4] raw RPN proposals
    rpn_scores: torch.Tensor     # [k] S_RPN


def rpn_proposals(model: nn.Module, feats, meta: dict, topk: int = RPN_TOPK,
                  nms_iou: float = RPN_NMS_IOU, nms_pre: int = 1000):
    """RPN boxes (input-image pixels) and scores with NMS at ``nms_iou`` and
    at most ``topk`` kept, sorted by score (mmdet's RPN post-processing with
    this test config)."""
    from mmengine.config import ConfigDict
    cfg = ConfigDict(nms_pre=max(nms_pre, 1), max_per_img=topk,
                     nms=dict(type='nms', iou_threshold=nms_iou),
                     min_bbox_size=0)
    cls_scores, bbox_preds = model.rpn_head(feats)
    res = model.rpn_head.predict_by_feat(cls_scores, bbox_preds,
                                         batch_img_metas=[meta], cfg=cfg,
                                         rescale=False)[0]
    boxes = res.bboxes.float()
    boxes = getattr(boxes, 'tensor', boxes)
    return boxes, res.scores.float()


def refine_boxes(roi_head: nn.Module, feats, boxes: torch.Tensor,
                 img_shape: tuple[int, int], num_iters: int = REFINE_ITERS
                 ) -> torch.Tensor:
    """Apply the RoI head's box regression ``num_iters`` times (VL-PLM Sec.
    3.2, Fig. 3b): pool RoI features at the current boxes, decode the
    predicted deltas (clipped to ``img_shape``), repeat at the new boxes. For a
    class-specific regressor the decoded boxes of all classes are averaged
    (one class for the class-agnostic generator). ``num_iters=0`` returns the
    boxes unchanged.
    """
    from mmdet.structures.bbox import bbox2roi
    if num_iters < 0:
        raise ValueError(f'num_iters must be >= 0, got {num_iters}')
    bbox_head = getattr(roi_head, 'bbox_head', None)
    if bbox_head is None or not hasattr(bbox_head, 'bbox_coder'):
        raise TypeError(f'{type(roi_head).__name__}: box refinement needs a '
                        'single-stage bbox_head with a bbox_coder '
                        '(StandardRoIHead)')
    k = int(boxes.shape[0])
    if k == 0 or num_iters == 0:
        return boxes
    with torch.no_grad():
        for _ in range(num_iters):
            out = roi_head._bbox_forward(feats, bbox2roi([boxes]))
            deltas = out['bbox_pred'].reshape(k, -1, 4)
            priors = boxes[:, None, :].expand_as(deltas).reshape(-1, 4)
            dec = bbox_head.bbox_coder.decode(priors, deltas.reshape(-1, 4),
                                              max_shape=img_shape)
            boxes = getattr(dec, 'tensor', dec).reshape(k, -1, 4).mean(dim=1)
    return boxes


def propose(model: nn.Module, pipeline, image: np.ndarray,
            topk: int = RPN_TOPK, nms_iou: float = RPN_NMS_IOU,
            refine_iters: int = REFINE_ITERS, nms_pre: int = 1000
            ) -> Proposals:
    """Proposals of one BGR image (HxWx3) in original pixels: RPN (NMS
    ``nms_iou``, top ``topk``), then ``refine_iters`` RoI-head refinements.
    """
    with torch.no_grad():
        batch = preprocess(model, pipeline, image)
        sample = batch['data_samples'][0]
        meta = sample.metainfo
        feats = model.extract_feat(batch['inputs'])
        boxes, scores = rpn_proposals(model, feats, meta, topk, nms_iou,
                                      nms_pre)
        refined = refine_boxes(model.roi_head, feats, boxes,
                               tuple(meta['img_shape'][:2]), refine_iters)
    sx, sy = meta.get('scale_factor', (1.0, 1.0))[:2]
    to_orig = boxes.new_tensor([1 / sx, 1 / sy, 1 / sx, 1 / sy])
    h, w = image.shape[:2]
    lim = boxes.new_tensor([w, h, w, h])

    def back(b: torch.Tensor) -> torch.Tensor:
        return torch.minimum((b * to_orig).clamp(min=0), lim).cpu()
    return Proposals(back(refined), back(boxes), scores.cpu())
