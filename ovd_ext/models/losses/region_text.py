"""RegionCLIP pretraining losses (Sec. 3.2, Eq. 1-5), on unit embeddings.

* :func:`region_text_contrastive`: Eq. 2-3. Each region ``i`` is matched to
  the concept ``m_i`` its teacher scores highest (Eq. 1); its negatives
  ``N_{r_i}`` are "the object concepts that are not matched to region r_i
  but matched to other regions in the batch", so the softmax runs over the
  set ``U`` of concepts matched anywhere in the batch:
  ``p(v_i, l_m) = exp(S_im / tau) / sum_{k in U} exp(S_ik / tau)``,
  ``L = mean_i -log p``.
* :func:`concept_distillation`: Eq. 4, ``mean_i KL(q^t_i || q_i)`` with
  ``q = softmax(S / tau)`` over ALL concepts for teacher and student.
* :func:`image_text_contrastive`: the image-level special case: the
  whole-image region against the captions of the batch (positives on the
  diagonal, negatives the other images' texts), image -> text.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .soft_label_kl import soft_label_kl


def region_text_contrastive(student_sim: torch.Tensor,
                            matched: torch.Tensor,
                            temperature: float) -> torch.Tensor:
    """Eq. 2-3. ``student_sim`` ``[N, C]`` cosine similarities S(v_i, l_k)
    of student regions to all concepts; ``matched`` ``[N]`` the teacher's
    concept per region. Returns the mean loss (0 for no regions)."""
    if len(matched) == 0:
        return student_sim.sum() * 0
    pool, target = torch.unique(matched, return_inverse=True)
    logits = student_sim[:, pool] / temperature
    return F.cross_entropy(logits, target)


def concept_distillation(student_sim: torch.Tensor, teacher_sim: torch.Tensor,
                         temperature: float) -> torch.Tensor:
    """Eq. 4: ``mean_i KL(q^t_i || q_i)``, teacher soft targets (no
    gradient) against the student's log-probabilities, ``q = softmax(S /
    tau)`` (:func:`~ovd_ext.models.losses.soft_label_kl.soft_label_kl`)."""
    return soft_label_kl(student_sim / temperature,
                         teacher_sim / temperature)


def image_text_contrastive(image_emb: torch.Tensor, text_emb: torch.Tensor,
                           temperature: float | torch.Tensor,
                           symmetric: bool = False) -> torch.Tensor:
    """Image-level contrastive loss: image ``b`` against the captions of the
    batch (unit rows ``[B, D]`` each), its own caption the positive.
    ``symmetric=True``: CLIP's InfoNCE, the mean of the image -> text and
    text -> image cross-entropies (DITO Eq. 1, used per pyramid level)."""
    logits = image_emb @ text_emb.t() / temperature
    target = torch.arange(len(image_emb), device=image_emb.device)
    loss = F.cross_entropy(logits, target)
    if symmetric:
        loss = (loss + F.cross_entropy(logits.t(), target)) / 2
    return loss
