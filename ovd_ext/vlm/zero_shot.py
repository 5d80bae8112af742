"""The one zero-shot scorer: CLIP region (or crop) embeddings against class
text embeddings.

* :func:`combine_scales`: several embeddings of a region (crop scales, or
  feature kinds) into one unit vector, ``phi(sum_s w_s E_s)`` with
  ``phi(x) = x / ||x||`` (VL-PLM Eq. 5 sums the 1x and 1.5x crops).
* :func:`zero_shot_logits`: ``logit_scale * region . text^T`` (cosine
  similarities of unit rows, times CLIP's temperature ``exp(t)``; None: the
  bare cosines).
* :func:`class_probabilities`: the softmax of those logits over a label
  space (VL-PLM Eq. 5).
* :func:`assign_labels`: argmax and max probability; the label space may
  end with extra classes (base classes, a "background" text) that take part
  in the softmax but are background for the caller (VL-PLM supplement B.3).
* :class:`ZeroShotScorer`: the above with the text embeddings, temperature
  and number of target classes bound, e.g. from a CLIP's learned scale.

Every method (VL-PLM's pseudo labels, the tiny-CLIP evaluation, the coming
teachers) calls these; method-specific fusion (VL-PLM Eq. 4) stays with the
method.
"""
from __future__ import annotations

from typing import NamedTuple, Sequence

import torch
import torch.nn.functional as F


def combine_scales(embeddings: torch.Tensor,
                   weights: Sequence[float] | None = None) -> torch.Tensor:
    """Several embeddings per region into one: ``phi(sum_s w_s E_s)``, the
    inner part of VL-PLM Eq. 5 (``phi(E_im(R) + E_im(R_1.5x))``).

    Args:
        embeddings: ``[k, S, D]``: S embeddings (crop scales or feature
            kinds) of each of k regions, usually unit rows each (as
            :func:`~ovd_ext.vlm.encode_crops` returns them), so that every
            scale weighs the same.
        weights: S weights (None: a plain sum, as VL-PLM).

    Returns:
        ``[k, D]`` unit rows.
    """
    if embeddings.ndim != 3:
        raise ValueError('expected [k, scales, D] region embeddings, got '
                         f'shape {tuple(embeddings.shape)}')
    if weights is None:
        return F.normalize(embeddings.sum(dim=1), dim=-1)
    if len(weights) != embeddings.shape[1]:
        raise ValueError(f'{len(weights)} weights for '
                         f'{embeddings.shape[1]} embeddings per region')
    w = embeddings.new_tensor([float(x) for x in weights])
    return F.normalize((embeddings * w[None, :, None]).sum(dim=1), dim=-1)


def zero_shot_logits(region_emb: torch.Tensor, text_emb: torch.Tensor,
                     logit_scale: float | None = None) -> torch.Tensor:
    """``[k, C]`` logits ``logit_scale * region . text^T`` in float32.

    Args:
        region_emb: ``[k, D]`` unit region / crop / image embeddings.
        text_emb: ``[C, D]`` unit class text embeddings (the label space).
        logit_scale: CLIP's temperature ``exp(t)`` (100 for OpenAI CLIP);
            None: the bare cosine similarities (enough for an argmax).
    """
    if region_emb.shape[-1] != text_emb.shape[-1]:
        raise ValueError(f'region embeddings have D={region_emb.shape[-1]} '
                         f'but text embeddings D={text_emb.shape[-1]}')
    if logit_scale is None:
        return region_emb.float() @ text_emb.float().t()
    return float(logit_scale) * region_emb.float() @ text_emb.float().t()


def class_probabilities(region_emb: torch.Tensor, text_emb: torch.Tensor,
                        logit_scale: float) -> torch.Tensor:
    """VL-PLM Eq. 5: ``p = softmax(logit_scale * phi(...) . E_txt^T)``.

    Args:
        region_emb: ``[k, D]`` unit region embeddings (:func:`combine_scales`).
        text_emb: ``[C, D]`` unit text embeddings of the whole label space
            (target classes first, then any extra classes).
        logit_scale: CLIP's learned temperature ``exp(t)``; Eq. 5 writes the
            dot product, CLIP's softmax uses this scale.

    Returns:
        ``[k, C]`` probabilities (rows sum to 1).
    """
    return zero_shot_logits(region_emb, text_emb, logit_scale).softmax(dim=-1)


class RegionLabels(NamedTuple):
    """Per-region result of :func:`assign_labels`."""
    max_prob: torch.Tensor   # [k] max(p) over the whole label space
    labels: torch.Tensor     # [k] argmax, an index into the label space
    keep: torch.Tensor       # [k] bool: argmax is a target class


def assign_labels(probs: torch.Tensor, num_targets: int) -> RegionLabels:
    """Class and ``max(p)`` of each region (VL-PLM Eq. 3/4 use ``argmax p``
    and ``max p``). Extra classes of the label space (base classes,
    "background"; VL-PLM supplement B.3) take part in the softmax; a region
    whose argmax is an extra class is background for the target task
    (``keep`` False) -- "objects of base categories ... will be removed as
    the background". Ties go to the first class.
    """
    if not 0 < num_targets <= probs.shape[-1]:
        raise ValueError(f'num_targets={num_targets} must be in '
                         f'[1, {probs.shape[-1]}] (label space size)')
    max_prob, labels = probs.max(dim=-1)
    return RegionLabels(max_prob, labels, labels < num_targets)


def classify(region_emb: torch.Tensor, text_emb: torch.Tensor,
             logit_scale: float | None = None) -> torch.Tensor:
    """``[k]`` index of the best class of each region (argmax of
    :func:`zero_shot_logits`; the temperature does not change it)."""
    return zero_shot_logits(region_emb, text_emb, logit_scale).argmax(dim=-1)


def clip_logit_scale(clip) -> float:
    """A CLIP's learned softmax temperature ``exp(logit_scale)``."""
    return float(clip.model.logit_scale.exp().item())


class ZeroShotScorer:
    """Zero-shot scoring over a fixed label space.

    Args:
        text_emb: ``[C, D]`` unit text embeddings, the ``num_targets`` target
            classes first, then extra (background) classes.
        num_targets: how many leading rows are targets (None: all).
        logit_scale: softmax temperature (VL-PLM Eq. 5 uses CLIP's learned
            one, :func:`clip_logit_scale`).
        weights: per-scale weights for :func:`combine_scales` when called
            with ``[k, S, D]`` embeddings.
    """

    def __init__(self, text_emb: torch.Tensor, logit_scale: float,
                 num_targets: int | None = None,
                 weights: Sequence[float] | None = None) -> None:
        self.text_emb = text_emb
        self.logit_scale = float(logit_scale)
        self.num_targets = (int(text_emb.shape[0]) if num_targets is None
                            else int(num_targets))
        if not 0 < self.num_targets <= text_emb.shape[0]:
            raise ValueError(f'num_targets={num_targets} must be in '
                             f'[1, {text_emb.shape[0]}] (label space size)')
        self.weights = weights

    @classmethod
    def from_clip(cls, clip, text_emb: torch.Tensor,
                  num_targets: int | None = None,
                  logit_scale: float | None = None,
                  weights: Sequence[float] | None = None
                  ) -> 'ZeroShotScorer':
        """A scorer with ``clip``'s learned temperature unless
        ``logit_scale`` is given."""
        scale = clip_logit_scale(clip) if logit_scale is None else logit_scale
        return cls(text_emb, scale, num_targets, weights)

    def probabilities(self, region_emb: torch.Tensor) -> torch.Tensor:
        """``[k, C]`` class probabilities of ``[k, D]`` unit embeddings or of
        ``[k, S, D]`` per-scale embeddings (combined first)."""
        if region_emb.ndim == 3:
            region_emb = combine_scales(region_emb, self.weights)
        return class_probabilities(region_emb, self.text_emb,
                                   self.logit_scale)

    def __call__(self, region_emb: torch.Tensor) -> RegionLabels:
        """Labels of the regions (probabilities on the CPU, see
        :func:`assign_labels`)."""
        return assign_labels(self.probabilities(region_emb).cpu(),
                             self.num_targets)
