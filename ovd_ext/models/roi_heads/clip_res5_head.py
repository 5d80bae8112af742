"""RegionCLIP's C4 RoI head: CLIP ``layer4`` + attention pool (Sec. 4
(implementation details)).

The shared head of mmdet's C4 layout (``StandardRoIHead(shared_head=...)``):
RoI features pooled from the C4 map (``layer3``, stride 16, 14x14 RoIAlign)
go through the CLIP ResNet's ``layer4`` (stride 2: 7x7) and its attention
pool, giving one ``[K, D]`` region embedding per RoI in the CLIP space. This
is the same computation as :func:`ovd_ext.vlm.dense.region_head` with
``layer='layer3'`` (the attention pool IS :func:`~ovd_ext.vlm.dense.
attention_pool`), held as trainable detector modules.
"""
from __future__ import annotations

import torch
from mmdet.registry import MODELS
from mmengine.model import BaseModule
from torch.nn.modules.batchnorm import _BatchNorm

from ...vlm.dense import attention_pool
from ..backbones.clip_resnet import build_clip_image_tower


@MODELS.register_module()
class CLIPResLayer4Head(BaseModule):
    """``layer4`` + attention pool of a CLIP ModifiedResNet on RoI features.

    Args:
        clip: ``OpenCLIP`` config whose image tower gives the weights (the
            same as the backbone's).
        norm_eval: BatchNorm in eval mode (detectron2 FrozenBN).
        frozen: keep ``layer4`` and the pool fixed (zero-shot inference).

    State-dict keys: ``layer4.*`` and ``attnpool.*`` (open_clip names).
    """

    def __init__(self, clip: dict, norm_eval: bool = True,
                 frozen: bool = False, init_cfg: dict | None = None) -> None:
        super().__init__(init_cfg=init_cfg)
        visual = build_clip_image_tower(clip)
        self.layer4 = visual.layer4
        self.attnpool = visual.attnpool
        self.out_channels = int(visual.output_dim)
        self.norm_eval = norm_eval
        self.frozen = frozen
        if frozen:
            for p in self.parameters():
                p.requires_grad_(False)
        self._is_init = True   # weights come from the CLIP

    def init_weights(self) -> None:
        """Nothing to do: the weights were taken from the CLIP."""

    def train(self, mode: bool = True) -> 'CLIPResLayer4Head':
        super().train(mode and not self.frozen)
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, _BatchNorm):
                    m.eval()
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """RoI features ``[K, C4, h, w]`` -> region embeddings ``[K, D]``
        (not normalised; the cosine classifier normalises)."""
        if x.shape[0] == 0:
            return x.new_zeros(0, self.out_channels)
        x = self.layer4(x.to(self.attnpool.q_proj.weight.dtype))
        return attention_pool(self.attnpool, x)
