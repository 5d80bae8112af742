"""VL-PLM region scoring: Eq. 5 (CLIP class distribution of a region), Eq. 4
(fusion with the RPN score), the confidence threshold and per-class NMS.

All functions are pure tensor functions, so each equation can be checked on
hand-computed inputs.
"""
from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torchvision.ops import batched_nms

#: IoU of the per-class NMS on the final pseudo labels. The paper says only
#: "thresholding and NMS" (Sec. 3.2, Fig. 2); 0.6 is the value of the authors'
#: released PL generator, which produced the reported PL numbers. It is looser
#: than the usual 0.5 test-time NMS because after repeated RoI refinement
#: duplicates sit almost on top of each other (IoU near 1, Fig. 3b) while
#: neighbouring objects of one class may overlap more than 0.5.
DEFAULT_PL_NMS_IOU = 0.6


def combine_scales(embeddings: torch.Tensor) -> torch.Tensor:
    """Multi-scale region embedding, the inner part of VL-PLM Eq. 5:
    ``phi(E_im(R) + E_im(R_1.5x))`` with ``phi(x) = x / ||x||``.

    Args:
        embeddings: ``[k, S, D]`` image embeddings of each region at S crop
            scales (``encode_crops`` returns them L2-normalised per scale, as
            CLIP's zero-shot use does, so every scale weighs the same).

    Returns:
        ``[k, D]`` unit rows.
    """
    if embeddings.ndim != 3:
        raise ValueError('expected [k, scales, D] region embeddings, got '
                         f'shape {tuple(embeddings.shape)}')
    return F.normalize(embeddings.sum(dim=1), dim=-1)


def class_probabilities(region_emb: torch.Tensor, text_emb: torch.Tensor,
                        logit_scale: float) -> torch.Tensor:
    """VL-PLM Eq. 5: ``p = softmax(logit_scale * phi(...) . E_txt^T)``.

    Args:
        region_emb: ``[k, D]`` unit region embeddings (:func:`combine_scales`).
        text_emb: ``[C, D]`` unit text embeddings of the whole label space
            (target classes first, then any extra classes, see
            :mod:`.label_space`).
        logit_scale: CLIP's learned temperature ``exp(t)`` (100 for OpenAI
            CLIP); Eq. 5 writes the dot product, CLIP's softmax uses this
            scale.

    Returns:
        ``[k, C]`` probabilities (rows sum to 1).
    """
    if region_emb.shape[-1] != text_emb.shape[-1]:
        raise ValueError(f'region embeddings have D={region_emb.shape[-1]} '
                         f'but text embeddings D={text_emb.shape[-1]}')
    logits = float(logit_scale) * region_emb.float() @ text_emb.float().t()
    return logits.softmax(dim=-1)


class RegionLabels(NamedTuple):
    """Per-region result of :func:`assign_labels`."""
    max_prob: torch.Tensor   # [k] max(p) over the whole label space
    labels: torch.Tensor     # [k] argmax, an index into the label space
    keep: torch.Tensor       # [k] bool: argmax is a target class


def assign_labels(probs: torch.Tensor, num_targets: int) -> RegionLabels:
    """Class and ``max(p)`` of each region (Eq. 3/4 use ``argmax p`` and
    ``max p``). Extra classes of the label space (base classes, "background";
    supplement B.3) take part in the softmax; a region whose argmax is an
    extra class is background for the target task and is dropped (``keep``
    False) — "objects of base categories ... will be removed as the
    background".
    """
    if not 0 < num_targets <= probs.shape[-1]:
        raise ValueError(f'num_targets={num_targets} must be in '
                         f'[1, {probs.shape[-1]}] (label space size)')
    max_prob, labels = probs.max(dim=-1)
    return RegionLabels(max_prob, labels, labels < num_targets)


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
