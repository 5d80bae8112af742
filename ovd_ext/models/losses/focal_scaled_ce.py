"""Class-weighted softmax cross-entropy with focal scaling of base classes.

RegionCLIP Sec. 4 (implementation details), on transfer learning: "(1) For
base categories, we used focal scaling with the weight for a base category as
(1 - p^b)^gamma, where p^b is the probability after softmax for this base
category and gamma = 0.5/0.0 on COCO/LVIS. (2) For background category, we used
a fixed all-zero embedding and a predefined weight (0.2/0.8 on COCO/LVIS) to
background regions."

For a region with label y (background = last column):

    L = w_y * (1 - p_y)^gamma_y * (-log p_y),
    w_y = bg_weight if y is background else 1,  gamma_y = 0 for background.

The scaling is not detached, as in focal loss. ``gamma = 0`` and
``bg_weight = 1`` give plain cross-entropy. ``1 - p`` is computed as
``-expm1(-CE)`` and kept above ``EPS``: for ``gamma < 1`` the derivative of
``(1 - p)^gamma`` is infinite at ``p = 1``, which a confident region reaches in
float32 at RegionCLIP's logit scale of 100 (and ``0 * inf`` is NaN even for the
background rows whose scaling is masked out).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from mmdet.models.losses.utils import weight_reduce_loss
from mmdet.registry import MODELS
from torch import Tensor, nn

#: Floor of ``1 - p`` in the focal scaling (finite gradients at p = 1).
EPS = 1e-12


@MODELS.register_module()
class FocalScaledCrossEntropyLoss(nn.Module):
    """Softmax CE with a background weight and focal scaling (RegionCLIP).

    Args:
        focal_gamma: gamma of the (1 - p)^gamma scaling of foreground classes.
        bg_weight: weight of background regions (0.2 on COCO, 0.8 on LVIS).
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.
        loss_weight: overall multiplier.
    """

    def __init__(self, focal_gamma: float = 0.0, bg_weight: float = 1.0,
                 reduction: str = 'mean', loss_weight: float = 1.0) -> None:
        super().__init__()
        if focal_gamma < 0 or bg_weight < 0:
            raise ValueError('focal_gamma and bg_weight must be >= 0, got '
                             f'{focal_gamma} and {bg_weight}')
        self.focal_gamma = focal_gamma
        self.bg_weight = bg_weight
        self.reduction = reduction
        self.loss_weight = loss_weight

    def forward(self, cls_score: Tensor, label: Tensor,
                weight: Tensor | None = None, avg_factor: float | None = None,
                reduction_override: str | None = None) -> Tensor:
        """Per-region loss of ``cls_score`` [N, C + 1] against ``label`` [N]."""
        reduction = reduction_override or self.reduction
        ce = F.cross_entropy(cls_score, label, reduction='none')
        is_bg = label == cls_score.shape[1] - 1
        loss = ce
        if self.focal_gamma > 0:
            one_minus_p = (-torch.expm1(-ce)).clamp(min=EPS)
            scale = one_minus_p.pow(self.focal_gamma)
            loss = loss * scale.masked_fill(is_bg, 1.0)
        if self.bg_weight != 1.0:
            loss = loss * is_bg.float().mul(self.bg_weight - 1.0).add(1.0)
        if weight is not None:
            weight = weight.float()
        return self.loss_weight * weight_reduce_loss(
            loss, weight, reduction=reduction, avg_factor=avg_factor)
