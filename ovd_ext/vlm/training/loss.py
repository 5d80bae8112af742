"""Contrastive image-text loss with class-aware (multi-positive) targets.

Plain CLIP InfoNCE treats every off-diagonal pair of a batch as a negative.
With 20 classes and a batch of 256 most pairs share a class, so "a photo of a
star." would be pushed away from every other star crop in the batch (false
negatives). Following UniCL (Yang et al. 2022, Eq. 2-3) and supervised
contrastive learning, pairs whose ``keys`` are equal are all positives and the
target of each row / column is uniform over its positives::

    L_i2t = -1/B sum_i 1/|P(i)| sum_{j in P(i)} log softmax_j(s * <v_i, t_j>)
    L_t2i = -1/B sum_j 1/|P(j)| sum_{i in P(j)} log softmax_i(s * <v_i, t_j>)
    L     = (L_i2t + L_t2i) / 2

With all keys distinct this is exactly CLIP's symmetric InfoNCE (Radford et al.
2021). Keys are class ids for class-described crops and a per-image id for
captions, so two captions of one image are positives of each other's image.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def positive_mask(keys: torch.Tensor) -> torch.Tensor:
    """``[B, B]`` bool mask: pair (i, j) is positive iff ``keys[i] ==
    keys[j]`` (the diagonal is always positive)."""
    keys = keys.reshape(-1)
    return keys[:, None] == keys[None, :]


def soft_targets(mask: torch.Tensor) -> torch.Tensor:
    """Row-normalised float targets of a positive mask (UniCL Eq. 2)."""
    m = mask.float()
    return m / m.sum(dim=1, keepdim=True)


def multi_positive_clip_loss(image_emb: torch.Tensor, text_emb: torch.Tensor,
                             logit_scale: torch.Tensor | float,
                             keys: torch.Tensor | None = None
                             ) -> torch.Tensor:
    """Symmetric InfoNCE with multi-positive targets (UniCL Eq. 2-3).

    Args:
        image_emb: ``[B, D]`` image embeddings (L2-normalised by the caller).
        text_emb: ``[B, D]`` text embeddings of the paired texts (normalised).
        logit_scale: the multiplier ``s`` (already exponentiated).
        keys: ``[B]`` integer keys; equal keys mark positive pairs. ``None``
            gives plain CLIP InfoNCE (only the diagonal is positive).

    Returns:
        The scalar loss ``(L_i2t + L_t2i) / 2``.
    """
    if image_emb.shape != text_emb.shape or image_emb.ndim != 2:
        raise ValueError(f'need two [B, D] embeddings of equal shape, got '
                         f'{tuple(image_emb.shape)} and '
                         f'{tuple(text_emb.shape)}')
    n = image_emb.shape[0]
    if keys is None:
        keys = torch.arange(n, device=image_emb.device)
    if keys.numel() != n:
        raise ValueError(f'{keys.numel()} keys for a batch of {n} pairs')
    logits = logit_scale * image_emb @ text_emb.t()          # [B img, B txt]
    targets = soft_targets(positive_mask(keys.to(image_emb.device)))
    # the mask is symmetric, so the same targets serve both directions
    loss_i2t = -(targets * F.log_softmax(logits, dim=1)).sum(1).mean()
    loss_t2i = -(targets * F.log_softmax(logits.t(), dim=1)).sum(1).mean()
    return 0.5 * (loss_i2t + loss_t2i)


def embedding_distill_loss(student: torch.Tensor,
                           teacher: torch.Tensor) -> torch.Tensor:
    """Mean cosine distance ``1 - <s_i, t_i>`` between unit-norm student and
    teacher image embeddings of the same inputs (embedding distillation as
    in ViLD-image, Gu et al. 2022, with cosine instead of L1). The teacher
    is detached."""
    if student.shape != teacher.shape:
        raise ValueError(f'student {tuple(student.shape)} and teacher '
                         f'{tuple(teacher.shape)} embeddings differ in shape')
    return (1.0 - (student * teacher.detach()).sum(dim=-1)).mean()
