"""XPM's robust student mask head: mask logits plus per-pixel noise
(Sec. 3.2.3-3.2.4, Eq. 6-7).

``NoiseEstimatingMaskHead`` is mmdet's ``FCNMaskHead`` with a noise head
``g_Noise`` beside the mask logits ``g_Mask``. Where the paper speaks we
follow it, where it is silent we take the authors' code
(hbdat/cvpr22_cross_modal_pseudo_labeling):

* ``g_Noise`` (paper: "a neural network predicting the noise levels from the
  visual features"; code): a 1x1 conv on the mask head's last feature map
  (the input of ``conv_logits``), **detached**, so the noise head does not
  shape the mask features; weights ~ N(0, 0.001^2), bias 1.
* its output ``s`` is the log-variance: ``g_Noise = exp(s)`` is the variance
  of the Gaussian noise on each logit (paper Eq. 6: ``eps ~ N(0, g_Noise)``;
  code: ``sigma = exp(0.5 s)``).
* Eq. 6 by the reparametrisation trick (paper, [100]): one draw
  ``z ~ N(0, 1)`` per pixel and step, ``eps = exp(0.5 s) * z``, and
  ``L_M = BCE(M_o | g_Mask + eps)`` averaged over pixels and objects
  (mmdet's mask-loss reduction), so ``L_M`` has gradients into both
  ``g_Mask`` and ``g_Noise``.
* Eq. 7 (paper): ``alpha(o) = eta / (sum_xy g_Noise^xy / |b_o|)``, the mean
  variance over the RoI's mask grid (which covers ``b_o``); the code uses
  the mean standard deviation instead, we keep the paper's variance.
  ``alpha`` is returned detached: ``L_X^alpha`` must not train ``g_Noise``
  (Sec. 4.1, "would result in the trivial solution").

At test time ``forward`` is ``FCNMaskHead.forward`` (logits only): the noise
head is not run, and it is a train-only module (``noise_head``) that exported
weights leave out (:mod:`ovd_ext.utils.train_only`).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from mmdet.models.roi_heads.mask_heads import FCNMaskHead
from mmdet.registry import MODELS
from torch import Tensor, nn

from ...utils.train_only import TrainOnlyWeightsMixin

#: Sec. 4.1: "we set eta = 0.01".
ETA = 0.01


class PixelNoiseHead(TrainOnlyWeightsMixin, nn.Module):
    """``g_Noise``: per-pixel log-variance from (detached) mask features."""

    def __init__(self, in_channels: int, init_std: float = 1e-3,
                 init_bias: float = 1.0) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, 1, 1)
        nn.init.normal_(self.conv.weight, 0.0, init_std)
        nn.init.constant_(self.conv.bias, init_bias)

    def forward(self, feats: Tensor) -> Tensor:
        """Log-variance ``s`` [N, 1, m, m]."""
        return self.conv(feats.detach())


def reparametrised_bce(logits: Tensor, log_var: Tensor, targets: Tensor,
                       noise: Tensor | None = None) -> Tensor:
    """Eq. 6: ``mean BCE(targets | logits + exp(0.5 log_var) * z)`` with
    ``z ~ N(0, 1)`` (or the given ``noise``), all of the same shape."""
    z = torch.randn_like(logits) if noise is None else noise
    return F.binary_cross_entropy_with_logits(
        logits + torch.exp(0.5 * log_var) * z, targets.float())


def reliability(log_var: Tensor, eta: float = ETA) -> Tensor:
    """Eq. 7 per object, detached: ``eta / mean_xy exp(log_var)``."""
    return (eta / log_var.detach().exp().flatten(1).mean(dim=1))


@MODELS.register_module()
class NoiseEstimatingMaskHead(FCNMaskHead):
    """``FCNMaskHead`` + ``noise_head`` (see the module doc).

    Args:
        noise_init_std, noise_init_bias: initialisation of ``g_Noise``
            (the authors' code: 0.001 and 1).
        **kwargs: ``FCNMaskHead`` arguments; ``class_agnostic`` must be True
            (XPM's ``h_Mask`` / ``g_Mask`` are class-agnostic).
    """

    def __init__(self, *args, noise_init_std: float = 1e-3,
                 noise_init_bias: float = 1.0, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not self.class_agnostic and self.num_classes != 1:
            raise ValueError('NoiseEstimatingMaskHead is class-agnostic (XPM '
                             'Sec. 3.2.1); set class_agnostic=True')
        self.noise_head = PixelNoiseHead(self.conv_out_channels,
                                         noise_init_std, noise_init_bias)

    def features(self, x: Tensor) -> Tensor:
        """``FCNMaskHead.forward`` up to ``conv_logits`` (its input)."""
        for conv in self.convs:
            x = conv(x)
        if self.upsample is not None:
            x = self.upsample(x)
            if self.upsample_method == 'deconv':
                x = self.relu(x)
        return x

    def forward_with_noise(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Mask logits ``g_Mask`` [N, 1, m, m] and log-variance ``s``
        [N, 1, m, m] of RoI features ``x``."""
        feats = self.features(x)
        return self.conv_logits(feats), self.noise_head(feats)
