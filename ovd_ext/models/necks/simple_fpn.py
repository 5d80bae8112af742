"""ViTDet's simple feature pyramid over a plain ViT's single map.

ViTDet (Li et al., "Exploring plain vision transformer backbones for object
detection", ECCV 2022, Sec. 3) builds the pyramid from the LAST map of a plain
ViT alone: deconvolutions up-sample it, max-pooling down-samples it, and each
scale gets a 1x1 and a 3x3 conv; no top-down or lateral path. DITO (Kim et
al., Sec. 3.2 / 4) uses this "SimpleFPN with layer normalisation instead of
batch norm" on its windowed CLIP ViT.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule, build_norm_layer
from mmdet.registry import MODELS
from mmengine.model import BaseModule
from torch import nn

#: scale factors (relative to the ViT map) that :class:`SimpleFPN` builds
SUPPORTED_SCALES = (4.0, 2.0, 1.0, 0.5, 0.25)


@MODELS.register_module('LN2d')
class LayerNorm2d(nn.Module):
    """LayerNorm over the channels of an ``[N, C, H, W]`` map (each pixel
    normalised on its own), detectron2's ``LayerNorm`` in ViTDet.

    Works as ``norm_cfg=dict(type='LN2d')`` with mmcv's ``build_norm_layer``
    (layer name ``ln``); note that ``build_norm_layer`` passes ``eps=1e-5``
    when the config has no ``eps``.
    """

    _abbr_ = 'ln'

    def __init__(self, num_channels: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.num_channels = num_channels
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(num_channels))
        self.bias = nn.Parameter(torch.zeros(num_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(x - mean_C) / sqrt(var_C + eps) * weight + bias`` per pixel."""
        mean = x.mean(1, keepdim=True)
        var = (x - mean).pow(2).mean(1, keepdim=True)
        x = (x - mean) / torch.sqrt(var + self.eps)
        return self.weight[:, None, None] * x + self.bias[:, None, None]

    def extra_repr(self) -> str:
        return f'{self.num_channels}, eps={self.eps}'


def _norm_class_cfg(norm_cfg: dict) -> dict:
    """``norm_cfg`` with its ``type`` resolved in mmdet's registry (so it
    builds whatever the default scope) and LN2d's ``eps`` 1e-6 (ViTDet's)
    unless given."""
    cfg = dict(norm_cfg)
    if isinstance(cfg.get('type'), str):
        cls = MODELS.get(cfg['type'])
        if cls is None:
            raise KeyError(f'norm_cfg type {cfg["type"]!r} is not registered '
                           'in mmdet MODELS')
        cfg['type'] = cls
    if cfg.get('type') is LayerNorm2d:
        cfg.setdefault('eps', 1e-6)
    return cfg


@MODELS.register_module()
class SimpleFPN(BaseModule):
    """ViTDet's simple feature pyramid (Li et al., ECCV 2022, Sec. 3), with
    LayerNorm as in DITO (Kim et al., Sec. 3.2 / 4).

    Branch per scale factor ``s`` on the ViT map (``C = in_channels``):
    ``4``: deconv(C -> C/2, k2 s2), norm, GELU, deconv(C/2 -> C/4, k2 s2);
    ``2``: deconv(C -> C/2); ``1``: identity; ``0.5``: max-pool 2;
    ``0.25``: max-pool 4. Each branch then has a 1x1 conv to ``out_channels``
    and a 3x3 conv, both without bias, with norm, without activation.
    Outputs beyond ``len(scale_factors)`` are ``max_pool2d(kernel 1, stride
    2)`` of the last one (the P6 of ViTDet / Faster R-CNN).

    For a patch-16 ViT the default ``(4, 2, 1, 0.5)`` gives strides 4, 8, 16,
    32 (+64 for P6); for a patch-8 ViT ``(2, 1, 0.5, 0.25)`` gives the same.

    Args:
        in_channels: channels of the ViT map.
        out_channels: channels of every output.
        scale_factors: sizes of the outputs relative to the ViT map, in
            decreasing order (from :data:`SUPPORTED_SCALES`).
        num_outs: number of outputs, at least ``len(scale_factors)``.
        norm_cfg: norm of the convs (and between the x4 deconvs); ``LN2d``
            without ``eps`` gets 1e-6.
        init_cfg: mmengine init config.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int = 256,
                 scale_factors: Sequence[float] = (4.0, 2.0, 1.0, 0.5),
                 num_outs: int = 5,
                 norm_cfg: dict | None = dict(type='LN2d'),
                 init_cfg: dict | list | None = None) -> None:
        super().__init__(init_cfg=init_cfg)
        scale_factors = tuple(float(s) for s in scale_factors)
        if not scale_factors:
            raise ValueError('SimpleFPN: scale_factors is empty')
        for s in scale_factors:
            if s not in SUPPORTED_SCALES:
                raise ValueError(f'SimpleFPN: unsupported scale factor {s} '
                                 f'(supported: {SUPPORTED_SCALES})')
        if any(a <= b for a, b in zip(scale_factors, scale_factors[1:])):
            raise ValueError(f'SimpleFPN: scale_factors {scale_factors} must '
                             'be strictly decreasing (highest resolution '
                             'first)')
        if num_outs < len(scale_factors):
            raise ValueError(f'SimpleFPN: num_outs={num_outs} is smaller than '
                             f'the {len(scale_factors)} scale factors')
        if 4.0 in scale_factors and in_channels < 4:
            raise ValueError(f'SimpleFPN: in_channels={in_channels} is too '
                             'small for scale factor 4 (needs >= 4)')
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.scale_factors = scale_factors
        self.num_outs = num_outs
        norm_cfg = _norm_class_cfg(norm_cfg) if norm_cfg else None

        self.stages = nn.ModuleList()
        for s in scale_factors:
            layers, dim = self._resample(s, in_channels, norm_cfg)
            layers += [
                ConvModule(dim, out_channels, 1, bias=False,
                           norm_cfg=norm_cfg, act_cfg=None),
                ConvModule(out_channels, out_channels, 3, padding=1,
                           bias=False, norm_cfg=norm_cfg, act_cfg=None)
            ]
            self.stages.append(nn.Sequential(*layers))

    @staticmethod
    def _resample(scale: float, dim: int,
                  norm_cfg: dict | None) -> tuple[list[nn.Module], int]:
        """Layers that resize the ViT map by ``scale``, and their output
        channels."""
        if scale == 4.0:
            layers = [nn.ConvTranspose2d(dim, dim // 2, 2, stride=2)]
            if norm_cfg:
                layers.append(build_norm_layer(norm_cfg, dim // 2)[1])
            layers += [nn.GELU(),
                       nn.ConvTranspose2d(dim // 2, dim // 4, 2, stride=2)]
            return layers, dim // 4
        if scale == 2.0:
            return [nn.ConvTranspose2d(dim, dim // 2, 2, stride=2)], dim // 2
        if scale == 1.0:
            return [], dim
        if scale == 0.5:
            return [nn.MaxPool2d(2, stride=2)], dim
        return [nn.MaxPool2d(4, stride=4)], dim   # 0.25 = two MaxPool2d(2)

    def forward(self, inputs: Sequence[torch.Tensor] | torch.Tensor
                ) -> tuple[torch.Tensor, ...]:
        """``num_outs`` maps, highest resolution first, from the last map
        ``[N, in_channels, h, w]`` of ``inputs`` (a backbone's tuple)."""
        x = inputs if isinstance(inputs, torch.Tensor) else inputs[-1]
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f'SimpleFPN: expected a [N, {self.in_channels}, '
                             f'h, w] map, got shape {tuple(x.shape)}')
        outs = [stage(x) for stage in self.stages]
        while len(outs) < self.num_outs:
            outs.append(F.max_pool2d(outs[-1], kernel_size=1, stride=2))
        return tuple(outs)
