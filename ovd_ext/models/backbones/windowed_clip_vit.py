"""``WindowedCLIPViT``: an open_clip ViT as a ViTDet / DITO detection backbone.

The image tower of any open_clip ViT checkpoint (ViT-B/16, ViT-L/14, the
tiny ``ovd-tiny-vit``) run on detection-sized images:

* position embeddings bicubically interpolated to the patch grid of the
  input (:func:`~ovd_ext.vlm.dense.resize_grid_embedding`);
* windowed attention with windows of ``window_size`` x ``window_size``
  patches (a K x K grid: 1024 px / patch 16 / M 16 = 4) and ``num_global``
  global-attention layers spaced evenly (ViTDet, Li et al. 2022, Sec. 3;
  DITO Sec. 3.3 / 4: K = 4, L = 4; for 12 blocks the global layers are the
  0-based blocks 2, 5, 8, 11, for 24 blocks 5, 11, 17, 23, the same
  indices the official DITO code uses);
* shifted-window learning (DITO Sec. 3.3, Algorithm 1) with
  ``shifted=True``: a second pass over the token map rolled by
  ``s = window_size // 2`` with wrap-around, attention masks so that rolled
  tokens do not attend across the image border (:mod:`.windows`), unrolled
  and averaged with the first pass. Both passes run as ONE batch of 2B.

The blocks are open_clip's own ``ResidualAttentionBlock`` modules with their
own weights (no key mapping: the checkpoint loads as open_clip loads it);
:func:`block_forward` runs one on token sequences with a boolean attention
mask through ``F.scaled_dot_product_attention``. With global attention in
every block at the pretraining resolution and ``with_cls_token=True``,
:meth:`WindowedCLIPViT.image_embedding` equals open_clip's
``encode_image`` (tested to 1e-5).

Output: ``(map,)`` with ``map`` ``[B, width, H/p, W/p]``, the tokens after
the last block (no ``ln_post``: the VLM region head applies it after
RoIAlign, :func:`~ovd_ext.vlm.dense.vit_region_head`). The final
``ln_post`` / ``proj`` stay frozen (they get no detection gradient, and
weight decay would otherwise erode them); so the official code's "average
the passes before the final LayerNorm" is what this module does too.

An input whose patch grid does not divide into windows is padded at the
bottom / right to whole windows; padded tokens are masked out as keys in
every layer and cropped from the output (ViTDet pads too, but lets the zero
tokens be attended). The shifted pass rolls the padded map.

Official DITO (JAX) option, ``shift_mode='official'``: the grid is rolled
after the patch embedding and BEFORE the position embedding is added, and
the wrapped tokens are not masked. The official code never pads: with a
padded grid this mode rolls the padded map, so real tokens moved onto
padding positions get no position embedding; use whole windows with it.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from mmdet.registry import MODELS
from mmengine.model import BaseModule
from open_clip.transformer import ResidualAttentionBlock
from torch import nn

from ...vlm.dense import resize_grid_embedding
from .windows import (PAD_LABEL, global_mask, pad_to_windows,
                      region_labels, roll_map, window_masks,
                      window_partition, window_unpartition)

SHIFT_MODES = ('paper', 'official')


def even_global_layers(depth: int, num_global: int) -> list[int]:
    """ViTDet's evenly spaced global blocks (0-based): the last block of
    each of ``num_global`` equal stages, e.g. 12, 4 -> [2, 5, 8, 11]."""
    if not 0 <= num_global <= depth:
        raise ValueError(f'num_global={num_global} must be in [0, {depth}]')
    return [(i + 1) * depth // num_global - 1 for i in range(num_global)]


def block_forward(block: ResidualAttentionBlock, x: torch.Tensor,
                  mask: torch.Tensor | None = None) -> torch.Tensor:
    """open_clip's pre-norm block on ``[N, L, C]`` with a boolean attention
    mask broadcastable to ``[N, heads, L, L]`` (True: may attend)."""
    attn = block.attn
    n, length, c = x.shape
    heads = attn.num_heads
    qkv = F.linear(block.ln_1(x), attn.in_proj_weight, attn.in_proj_bias)
    q, k, v = qkv.view(n, length, 3, heads, c // heads).permute(
        2, 0, 3, 1, 4)
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    out = attn.out_proj(out.transpose(1, 2).reshape(n, length, c))
    x = x + block.ls_1(out)
    return x + block.ls_2(block.mlp(block.ln_2(x)))


def _batch_masks(masks: list[torch.Tensor], batch: int
                 ) -> torch.Tensor | None:
    """Per-pass masks ``[G, L, L]`` to ``[passes * batch * G, 1, L, L]``
    in the order of the 2B batch; None when nothing is masked."""
    if all(bool(m.all()) for m in masks):
        return None
    m = torch.stack(masks)                              # P G L L
    m = m[:, None].expand(-1, batch, -1, -1, -1)        # P B G L L
    return m.reshape(-1, 1, m.shape[-2], m.shape[-1])


@MODELS.register_module()
class WindowedCLIPViT(BaseModule):
    """open_clip ViT image tower with window / shifted-window attention.

    Args:
        clip: ``OpenCLIP`` config (``name``, local ``checkpoint``; None
            gives random weights, tests only). Its image tower must be an
            open_clip ``VisionTransformer``; the text tower is discarded.
        window_size: M, patches per window side (ViT-B/16 at 1024: 16).
            ``None``: global attention in every block.
        num_global: L, evenly spaced global blocks (ViTDet / DITO: 4).
        global_layers: explicit 0-based global blocks (overrides
            ``num_global``).
        shifted: shifted-window learning (Algorithm 1).
        shift_mode: ``'paper'`` (roll after the position embedding, masks
            at the border) or ``'official'`` (see module doc).
        with_cls_token: keep the class token (it joins the global layers
            and attends only to itself in window layers). Default False:
            ViTDet / RO-ViT detectors drop it.
        frozen_stages: -1 (train all) or N (patch embedding, position
            embeddings and the first N blocks frozen).
    """

    def __init__(self, clip: dict, window_size: int | None = 16,
                 num_global: int = 4,
                 global_layers: Sequence[int] | None = None,
                 shifted: bool = False, shift_mode: str = 'paper',
                 with_cls_token: bool = False, frozen_stages: int = -1,
                 init_cfg: dict | None = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if shift_mode not in SHIFT_MODES:
            raise ValueError(f'shift_mode must be one of {SHIFT_MODES}, got '
                             f'{shift_mode!r}')
        wrapper = MODELS.build(dict(clip, frozen=False))
        visual = wrapper.visual
        if wrapper.kind != 'vit':
            raise TypeError(
                f'WindowedCLIPViT needs an open_clip ViT; {wrapper.name} '
                f'(checkpoint {wrapper.checkpoint}) has a '
                f'{type(visual).__name__} image tower')
        if visual.attn_pool is not None:
            raise TypeError(f'{wrapper.name}: ViTs with an attentional '
                            'pooler (CoCa) are not supported')
        blocks = visual.transformer.resblocks
        if not all(isinstance(b, ResidualAttentionBlock) for b in blocks):
            raise TypeError(f'{wrapper.name}: only open_clip '
                            'ResidualAttentionBlock towers are supported')
        self.clip_name = wrapper.name
        self.checkpoint = wrapper.checkpoint
        #: the CLIP's learned logit scale (1 / temperature of its softmax)
        self.logit_scale = float(wrapper.model.logit_scale.detach().exp())
        self.embed_dim = wrapper.embed_dim
        self.visual = visual
        self.width = visual.conv1.out_channels
        self.patch_size = int(visual.patch_size[0])
        depth = len(blocks)
        if window_size is None:
            self.global_layers = list(range(depth))
        elif global_layers is not None:
            bad = [i for i in global_layers if not 0 <= i < depth]
            if bad:
                raise ValueError(f'global_layers {bad} outside 0..{depth - 1}')
            self.global_layers = sorted(set(global_layers))
        else:
            self.global_layers = even_global_layers(depth, num_global)
        self.window_size = window_size
        self.shifted = bool(shifted) and window_size is not None
        self.shift = window_size // 2 if self.shifted else 0
        self.shift_mode = shift_mode
        self.with_cls_token = with_cls_token
        for p in list(visual.ln_post.parameters()) + [visual.proj]:
            if p is not None:
                p.requires_grad_(False)
        self.frozen_stages = frozen_stages
        self._freeze_stages()

    def _freeze_stages(self) -> None:
        if self.frozen_stages < 0:
            return
        v = self.visual
        frozen = [v.conv1, v.ln_pre] + list(
            v.transformer.resblocks[:self.frozen_stages])
        for m in frozen:
            m.eval()
            for p in m.parameters():
                p.requires_grad_(False)
        v.positional_embedding.requires_grad_(False)
        v.class_embedding.requires_grad_(False)

    def init_weights(self) -> None:
        """Weights come from the CLIP checkpoint: nothing to initialise."""

    @property
    def out_channels(self) -> int:
        """Channels of the output map (the ViT width)."""
        return self.width

    # -- token map --------------------------------------------------------
    def _embed(self, images: torch.Tensor
               ) -> tuple[torch.Tensor, torch.Tensor, tuple[int, int]]:
        """Patch tokens ``[P*B, Hp, Wp, C]`` of the P passes (padded,
        rolled, ``ln_pre`` applied), class tokens ``[P*B, 1, C]`` and the
        valid grid."""
        v = self.visual
        x = v.conv1(images).permute(0, 2, 3, 1)         # B h w C
        hw = (x.shape[1], x.shape[2])
        pos = resize_grid_embedding(v.positional_embedding, v.grid_size, hw)
        grid_pos = pos[1:].view(hw[0], hw[1], -1).to(x.dtype)
        window = self.window_size or 1
        passes = [pad_to_windows(x + grid_pos, window)[0]]
        if self.shifted:
            if self.shift_mode == 'paper':
                passes.append(roll_map(passes[0], self.shift))
            else:
                tokens = roll_map(pad_to_windows(x, window)[0], self.shift)
                padded_pos = pad_to_windows(grid_pos[None], window)[0]
                passes.append(tokens + padded_pos)
        x = v.ln_pre(torch.cat(passes))
        cls = (v.class_embedding + pos[0]).to(x.dtype).view(1, 1, -1)
        cls = v.ln_pre(cls).expand(x.shape[0], -1, -1)
        return x, cls, hw

    def _labels(self, padded_hw: tuple[int, int], hw: tuple[int, int],
                device) -> list[torch.Tensor]:
        labels = [region_labels(padded_hw, hw, 0, device=device)]
        if self.shifted:
            labels.append(region_labels(
                padded_hw, hw, self.shift,
                mask_border=self.shift_mode == 'paper', device=device))
        return labels

    def forward_tokens(self, images: torch.Tensor
                       ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Run the blocks; returns the output map ``[B, H/p, W/p, C]``
        (passes unrolled and averaged, padding cropped) and the class token
        ``[B, C]`` (None without ``with_cls_token``)."""
        batch = images.shape[0]
        x, cls, hw = self._embed(images)
        n, hp, wp, c = x.shape
        labels = self._labels((hp, wp), hw, x.device)
        win_mask = glob_mask = None
        if self.window_size is not None and len(self.global_layers) < len(
                self.visual.transformer.resblocks):
            win_mask = _batch_masks(
                [window_masks(lab, self.window_size) for lab in labels],
                batch)
        glob = [global_mask(lab) for lab in labels]
        if self.with_cls_token:
            glob = [F.pad(g, (1, 0, 1, 0), value=True) for g in glob]
            for g, lab in zip(glob, labels):
                # the class token attends to itself and the real tokens
                # only: through it, padding would reach the real tokens
                g[0, 1:] = lab.flatten() != PAD_LABEL
        glob = [g[None] for g in glob]
        glob_mask = _batch_masks(glob, batch)
        for i, block in enumerate(self.visual.transformer.resblocks):
            if i in self.global_layers:
                seq = x.reshape(n, hp * wp, c)
                if self.with_cls_token:
                    seq = torch.cat([cls, seq], dim=1)
                seq = block_forward(block, seq, glob_mask)
                if self.with_cls_token:
                    cls, seq = seq[:, :1], seq[:, 1:]
                x = seq.reshape(n, hp, wp, c)
            else:
                win = window_partition(x, self.window_size)
                win = block_forward(block, win, win_mask)
                x = window_unpartition(win, self.window_size, (hp, wp))
                if self.with_cls_token:
                    cls = block_forward(block, cls)
        if self.shifted:
            first, second = x[:batch], roll_map(x[batch:], -self.shift)
            x = (first + second) / 2
            if self.with_cls_token:
                cls = (cls[:batch] + cls[batch:]) / 2
        x = x[:, :hw[0], :hw[1]]
        return x, (cls[:, 0] if self.with_cls_token else None)

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor]:
        """``(map,)``: the last block's tokens ``[B, width, H/p, W/p]``."""
        x, _ = self.forward_tokens(images)
        return (x.permute(0, 3, 1, 2).contiguous(), )

    def image_embedding(self, images: torch.Tensor) -> torch.Tensor:
        """The CLIP image embedding ``[B, D]`` (not normalised): open_clip's
        pooling, ``ln_post`` and ``proj`` on this backbone's tokens. Needs
        ``with_cls_token=True``."""
        if not self.with_cls_token:
            raise ValueError('image_embedding needs with_cls_token=True')
        x, cls = self.forward_tokens(images)
        tokens = torch.cat([cls[:, None], x.flatten(1, 2)], dim=1)
        pooled, _ = self.visual._pool(tokens)
        return pooled @ self.visual.proj if self.visual.proj is not None \
            else pooled

    def train(self, mode: bool = True) -> 'WindowedCLIPViT':
        super().train(mode)
        self._freeze_stages()
        return self


__all__ = ['WindowedCLIPViT', 'block_forward', 'even_global_layers']
