"""KL divergence to soft labels: the one soft-target distillation loss.

``KL(q_t || q_s) = sum_c q_t,c (log q_t,c - log q_s,c)`` with ``q_t =
softmax(teacher_logits)`` (no gradient) and ``q_s = softmax(student_logits)``,
averaged over regions (or summed and divided by ``avg_factor``).

* RichSem Eq. 4: ``L_soft = 1/N sum_i L_KL(o_i^soft, s_i^t)`` over the N
  matched proposals / queries; the target ``s^t`` (Eq. 2) is the teacher's
  distribution and the KL is taken from it (``KL(s_t || o_soft)``, the
  distillation direction of Hinton et al., which the paper follows).
* RegionCLIP Eq. 4 (:func:`~ovd_ext.models.losses.region_text.
  concept_distillation`) is the same loss on similarities over tau.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from mmdet.registry import MODELS
from torch import Tensor, nn


def soft_label_kl(student_logits: Tensor, teacher_logits: Tensor,
                  avg_factor: float | None = None) -> Tensor:
    """``sum_i KL(softmax(t_i) || softmax(s_i)) / n`` (``n`` = number of
    rows, or ``avg_factor``); 0 (with a graph) for no rows."""
    if student_logits.shape != teacher_logits.shape:
        raise ValueError(f'student logits {tuple(student_logits.shape)} and '
                         f'teacher logits {tuple(teacher_logits.shape)} '
                         'differ in shape')
    if len(student_logits) == 0:
        return student_logits.sum() * 0
    log_q = F.log_softmax(student_logits.float(), dim=-1)
    log_t = F.log_softmax(teacher_logits.detach().float(), dim=-1)
    kl = (log_t.exp() * (log_t - log_q)).sum(dim=-1)
    denom = float(avg_factor) if avg_factor is not None else len(kl)
    return kl.sum() / max(denom, 1e-6)


@MODELS.register_module()
class SoftLabelKLLoss(nn.Module):
    """:func:`soft_label_kl` times ``loss_weight`` (RichSem lambda_soft =
    0.5, Eq. 5 and Sec. 4.2)."""

    def __init__(self, loss_weight: float = 0.5) -> None:
        super().__init__()
        self.loss_weight = float(loss_weight)

    def forward(self, student_logits: Tensor, teacher_logits: Tensor,
                avg_factor: float | None = None) -> Tensor:
        return self.loss_weight * soft_label_kl(student_logits,
                                                teacher_logits, avg_factor)
