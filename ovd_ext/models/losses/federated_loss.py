"""Sigmoid classification loss with federated class sampling (Detic, for LVIS).

LVIS is federated: an image is exhaustively checked only for some categories,
so penalising every absent class as a negative is wrong for rare ones. Following
Detic (Zhou et al., 2022, "federated loss"), each iteration computes the binary
cross-entropy only over a sampled subset of classes: all classes present in the
batch, plus classes drawn without replacement with probability proportional to
``freq_c ** freq_weight_power`` (image frequency, power 0.5) until
``num_sample_classes`` (50) are reached. Classes with zero weight (e.g. novel
classes removed from training) are never drawn as negatives.

The classifier emits C + 1 columns (last = background); the background column
takes no part in the sigmoid loss, and a background region is a negative for
every sampled class.
"""
from __future__ import annotations

import json
from typing import Sequence

import torch
import torch.nn.functional as F
from mmdet.registry import MODELS
from torch import Tensor, nn


def load_class_frequency(lvis_json: str, classes: Sequence[str] | None = None,
                         power: float = 0.5) -> Tensor:
    """Per-class sampling weights ``image_count ** power`` from an LVIS json.

    Categories are taken in id order, or in the order of ``classes`` if given
    (every name must exist in the json).
    """
    with open(lvis_json) as f:
        cats = sorted(json.load(f)['categories'], key=lambda c: c['id'])
    counts = {c['name']: float(c.get('image_count', 0)) for c in cats}
    names = list(classes) if classes is not None else [c['name'] for c in cats]
    missing = [n for n in names if n not in counts]
    if missing:
        raise ValueError(f'{lvis_json} has no category named {missing[0]!r} '
                         f'({len(missing)} of {len(names)} names missing)')
    return torch.tensor([counts[n] for n in names]).pow(power)


def sample_federated_classes(labels: Tensor, freq_weight: Tensor,
                             num_sample_classes: int,
                             generator: torch.Generator | None = None) -> Tensor:
    """Indices of the classes that take part in this iteration's loss.

    ``labels`` are region labels in [0, C] (C = background). Returns the sorted
    unique foreground labels plus frequency-weighted samples of the others.
    """
    num_classes = freq_weight.numel()
    present = labels[labels < num_classes].unique()
    if present.numel() >= num_sample_classes:
        return present.sort().values
    prob = freq_weight.float().clone().to(labels.device)
    prob[present] = 0
    num_extra = min(num_sample_classes - present.numel(), int((prob > 0).sum()))
    if num_extra == 0:
        return present.sort().values
    extra = torch.multinomial(prob, num_extra, replacement=False,
                              generator=generator)
    return torch.cat([present, extra]).sort().values


@MODELS.register_module()
class FederatedSigmoidLoss(nn.Module):
    """Sigmoid BCE over federated-sampled classes (Detic) for the bbox head.

    Args:
        class_frequency: an LVIS-format json whose categories carry
            ``image_count``, or a list of per-class counts in vocabulary order.
        classes: vocabulary order of the class names (default: json id order).
        num_sample_classes: classes per iteration (Detic: 50).
        freq_weight_power: sampling weight exponent (Detic: 0.5).
        excluded_classes: class indices never used (e.g. novel classes).
        loss_weight: overall multiplier.
    """

    def __init__(self, class_frequency: str | Sequence[float],
                 classes: Sequence[str] | None = None,
                 num_sample_classes: int = 50, freq_weight_power: float = 0.5,
                 excluded_classes: Sequence[int] = (),
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if isinstance(class_frequency, str):
            weight = load_class_frequency(class_frequency, classes,
                                          freq_weight_power)
        else:
            weight = torch.tensor(list(class_frequency),
                                  dtype=torch.float).pow(freq_weight_power)
        self.register_buffer('freq_weight', weight, persistent=False)
        self.exclude_classes(excluded_classes)
        self.num_sample_classes = num_sample_classes
        self.loss_weight = loss_weight
        self.custom_cls_channels = True
        self.custom_activation = True
        self.custom_accuracy = True

    def exclude_classes(self, indices: Sequence[int]) -> None:
        """Never sample these classes (e.g. novel classes) as negatives."""
        self.freq_weight[list(indices)] = 0

    def get_cls_channels(self, num_classes: int) -> int:
        """Columns of the classifier: C classes + background."""
        if num_classes != self.freq_weight.numel():
            raise ValueError(
                f'federated loss has frequencies for {self.freq_weight.numel()} '
                f'classes but the head has num_classes={num_classes}')
        return num_classes + 1

    def get_activation(self, cls_score: Tensor) -> Tensor:
        """Per-class sigmoid scores, with a zero background column for NMS."""
        scores = cls_score[:, :-1].sigmoid()
        return torch.cat([scores, scores.new_zeros(scores.shape[0], 1)], dim=1)

    def get_accuracy(self, cls_score: Tensor, labels: Tensor) -> dict:
        """Foreground accuracy: argmax class equals the label on positives."""
        fg = labels < cls_score.shape[1] - 1
        if not fg.any():
            return dict(acc=cls_score.new_tensor(100.0))
        pred = cls_score[fg, :-1].argmax(dim=1)
        return dict(acc=(pred == labels[fg]).float().mean() * 100)

    def forward(self, cls_score: Tensor, label: Tensor,
                weight: Tensor | None = None, avg_factor: float | None = None,
                reduction_override: str | None = None) -> Tensor:
        """BCE over sampled classes, summed over classes, averaged over regions."""
        num_classes = cls_score.shape[1] - 1
        target = F.one_hot(label, num_classes + 1)[:, :num_classes].float()
        chosen = sample_federated_classes(label, self.freq_weight,
                                          self.num_sample_classes)
        logits = cls_score[:, :num_classes][:, chosen]
        loss = F.binary_cross_entropy_with_logits(
            logits, target[:, chosen], reduction='none').sum(dim=1)
        if weight is not None:
            loss = loss * weight.float()
        denom = avg_factor if avg_factor is not None else max(label.numel(), 1)
        return self.loss_weight * loss.sum() / denom
