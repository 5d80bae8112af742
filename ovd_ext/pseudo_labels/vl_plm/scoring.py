"""VL-PLM's own scoring: Eq. 4 (fusion of the CLIP class probability with the
RPN score), the confidence threshold and per-class NMS. Eq. 5 (the CLIP class
distribution of a region) is the shared zero-shot scorer,
:mod:`ovd_ext.vlm.zero_shot`.

All functions are pure tensor functions, so each equation can be checked on
hand-computed inputs.
"""
from __future__ import annotations

import torch
from torchvision.ops import batched_nms

#: IoU of the per-class NMS on the final pseudo labels. The paper says only
#: "thresholding and NMS" (Sec. 3.2, Fig. 2); 0.6 is the value of the authors'
#: released PL generator, which produced the reported PL numbers. It is looser
#: than the usual 0.5 test-time NMS because after repeated RoI refinement
#: duplicates sit almost on top of each other (IoU near 1, Fig. 3b) while
#: neighbouring objects of one class may overlap more than 0.5.
DEFAULT_PL_NMS_IOU = 0.6


def fuse_scores(rpn_scores: torch.Tensor,
                clip_max_prob: torch.Tensor) -> torch.Tensor:
    """VL-PLM Eq. 4: ``s = (S_RPN(R) + max(p)) / 2``."""
    if rpn_scores.shape != clip_max_prob.shape:
        raise ValueError(f'{tuple(rpn_scores.shape)} RPN scores but '
                         f'{tuple(clip_max_prob.shape)} CLIP scores')
    dtype = torch.promote_types(
        torch.promote_types(rpn_scores.dtype, clip_max_prob.dtype),
        torch.float32)
    return (rpn_scores.to(dtype) + clip_max_prob.to(dtype)) * 0.5


def confidence(scores: torch.Tensor, tau: float) -> torch.Tensor:
    """VL-PLM's pseudo-label confidence ``c = [s >= tau] * s`` (Sec. 3.2);
    a region with ``c = 0`` is not a pseudo label."""
    return torch.where(scores >= tau, scores, torch.zeros_like(scores))


def threshold_and_nms(boxes: torch.Tensor, scores: torch.Tensor,
                      labels: torch.Tensor, tau: float,
                      iou_threshold: float = DEFAULT_PL_NMS_IOU
                      ) -> torch.Tensor:
    """Indices of the final pseudo labels: ``s >= tau`` (Eq. 4's indicator),
    then NMS per class at ``iou_threshold``; sorted by descending score.

    Args:
        boxes: ``[n, 4]`` xyxy; scores: ``[n]``; labels: ``[n]`` class ids.
    """
    idx = torch.nonzero(scores >= tau, as_tuple=False).flatten()
    if idx.numel() == 0:
        return idx
    keep = batched_nms(boxes[idx].float(), scores[idx].float(), labels[idx],
                       float(iou_threshold))
    return idx[keep]
