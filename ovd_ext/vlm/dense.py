"""Dense CLIP features and region embeddings from them.

ONE way to get region embeddings from a CLIP (DESIGN.md §2): RoIAlign on a
dense feature map, then the rest of the model's own image tower.

Dense maps, by ``layer`` (:func:`dense_features`):

* ResNet CLIP, ``'layer4'`` (default): output of ``layer4`` (stride 32,
  before the attention pool). Region head = the attention pool, run on the
  RoI grid, with its positional embedding bicubically resized when the RoI
  grid differs from the pool's native grid (``image_size // 32``) —
  RegionCLIP / RichSem teachers.
* ResNet CLIP, ``'layer3'``: output of ``layer3`` (C4, stride 16), what
  RegionCLIP's ResNet-C4 detector pools from. Region head = ``layer4`` on the
  RoI features (it halves the grid: default RoI grid ``image_size // 16``)
  then the attention pool — the C4 box head of RegionCLIP (res5 + attnpool).
* ViT CLIP, ``'last'`` (default, the only one): patch tokens after the last
  transformer block as a map (stride = patch size; the class token is
  dropped). Region head = the final LayerNorm and projection (``ln_post``,
  ``proj``) applied to the RoI-averaged tokens (for ``pool_type='avg'``
  towers, LN is applied per token before the average, as the tower itself
  does). Inputs of another size than the model's get a bicubically resized
  positional embedding.

RoIAlign choices: ``aligned=True`` (pixel-centre convention, so a box edge at
pixel ``x`` is feature coordinate ``x / stride - 0.5``), average pooling,
``sampling_ratio=0`` (adaptive: ``ceil(box / bin)`` samples per bin). With these
a whole-image box on an image at the model input size samples every feature
cell exactly at its centre, so the ResNet region embedding of that box (from
``layer4`` or ``layer3``) equals the global image embedding up to float
rounding.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from mmcv.ops import RoIAlign

from .wrapper import CLIPWrapper


#: Dense-map layers per image-tower kind; the first is the default.
DENSE_LAYERS = {'resnet': ('layer4', 'layer3'), 'vit': ('last', )}
#: Input pixels per cell of each ResNet dense map.
RESNET_STRIDES = {'layer3': 16, 'layer4': 32}


def _require_dense(clip: CLIPWrapper) -> None:
    if clip.kind not in ('resnet', 'vit'):
        raise NotImplementedError(
            f'{clip.name}: dense features need an open_clip ModifiedResNet or '
            f'VisionTransformer image tower, not '
            f'{type(clip.visual).__name__}')
    if clip.kind == 'vit' and clip.visual.attn_pool is not None:
        raise NotImplementedError(
            f'{clip.name}: ViTs with an attentional pooler (CoCa-style) are '
            'not supported for dense features / region embeddings')


def dense_layer(clip: CLIPWrapper, layer: str | None = None) -> str:
    """Check ``layer`` for this CLIP's image tower (``None``: the default,
    ``'layer4'`` for ResNets, ``'last'`` for ViTs) and return its name."""
    _require_dense(clip)
    names = DENSE_LAYERS[clip.kind]
    if layer is None:
        return names[0]
    if layer not in names:
        raise ValueError(f'{clip.name}: no dense layer {layer!r} for a '
                         f'{clip.kind} image tower; one of {names}')
    return layer


def dense_stride(clip: CLIPWrapper, layer: str | None = None) -> int:
    """Input pixels per cell of the ``layer`` map (RN ``layer3`` 16,
    ``layer4`` 32; ViT the patch size)."""
    layer = dense_layer(clip, layer)
    if clip.kind == 'resnet':
        return RESNET_STRIDES[layer]
    return clip.feature_stride


def resize_grid_embedding(pos: torch.Tensor, old_hw: tuple[int, int],
                          new_hw: tuple[int, int]) -> torch.Tensor:
    """Bicubically resize a ``[1 + h*w, C]`` positional embedding (first row
    = class / mean token, kept) to a ``new_hw`` grid."""
    if tuple(old_hw) == tuple(new_hw):
        return pos
    head, grid = pos[:1], pos[1:]
    grid = grid.reshape(1, old_hw[0], old_hw[1], -1).permute(0, 3, 1, 2)
    grid = F.interpolate(grid.float(), size=tuple(new_hw), mode='bicubic',
                         align_corners=False).to(pos.dtype)
    grid = grid.permute(0, 2, 3, 1).reshape(new_hw[0] * new_hw[1], -1)
    return torch.cat([head, grid])


def _vit_tokens(visual, x: torch.Tensor) -> torch.Tensor:
    """ViT forward up to the last block: ``[N, 1 + h*w, C]`` tokens
    (class token first). Patch dropout is not applied."""
    x = visual.conv1(x)
    hw = (x.shape[2], x.shape[3])
    x = x.flatten(2).transpose(1, 2)
    cls = visual.class_embedding.to(x.dtype).view(1, 1, -1)
    x = torch.cat([cls.expand(x.shape[0], -1, -1), x], dim=1)
    pos = resize_grid_embedding(visual.positional_embedding,
                                visual.grid_size, hw)
    x = visual.ln_pre(x + pos.to(x.dtype))
    return visual.transformer(x)


def dense_features(clip: CLIPWrapper, images: torch.Tensor,
                   layer: str | None = None) -> torch.Tensor:
    """Dense image features ``[N, C, H/s, W/s]`` with ``s =
    dense_stride(clip, layer)`` (see module doc for what each tower and
    layer returns).

    Args:
        images: normalised ``[N, 3, H, W]`` (e.g. from ``preprocess_images``
            with any ``size``; H and W should be multiples of the stride).
        layer: ResNet ``'layer4'`` (default) or ``'layer3'`` (C4); ViT
            ``'last'`` (default).
    """
    layer = dense_layer(clip, layer)
    v = clip.visual
    x = images.to(device=clip.device, dtype=clip.dtype)
    with clip.grad_context('image'):
        if clip.kind == 'resnet':
            stages = (v.layer1, v.layer2, v.layer3)
            if layer == 'layer4':
                stages += (v.layer4, )
            x = v.stem(x)
            for stage in stages:
                x = stage(x)
            return x
        h, w = x.shape[2] // v.patch_size[0], x.shape[3] // v.patch_size[1]
        tokens = _vit_tokens(v, x)[:, 1:]
        tokens = tokens.transpose(1, 2).reshape(x.shape[0], -1, h, w)
        return tokens.contiguous()


def attention_pool(attnpool, x: torch.Tensor) -> torch.Tensor:
    """Apply a CLIP ``AttentionPool2d`` to ``[K, C, h, w]`` of any grid size
    (positional embedding resized to ``h x w``); returns ``[K, D]``."""
    side = int(round((attnpool.positional_embedding.shape[0] - 1) ** 0.5))
    pos = resize_grid_embedding(attnpool.positional_embedding, (side, side),
                                (x.shape[2], x.shape[3]))
    x = x.flatten(2).permute(2, 0, 1)                       # (hw) K C
    x = torch.cat([x.mean(dim=0, keepdim=True), x], dim=0)  # (1+hw) K C
    x = x + pos[:, None, :].to(x.dtype)
    x, _ = F.multi_head_attention_forward(
        query=x[:1], key=x, value=x, embed_dim_to_check=x.shape[-1],
        num_heads=attnpool.num_heads,
        q_proj_weight=attnpool.q_proj.weight,
        k_proj_weight=attnpool.k_proj.weight,
        v_proj_weight=attnpool.v_proj.weight, in_proj_weight=None,
        in_proj_bias=torch.cat([attnpool.q_proj.bias, attnpool.k_proj.bias,
                                attnpool.v_proj.bias]),
        bias_k=None, bias_v=None, add_zero_attn=False, dropout_p=0.0,
        out_proj_weight=attnpool.c_proj.weight,
        out_proj_bias=attnpool.c_proj.bias, use_separate_proj_weight=True,
        training=False, need_weights=False)
    return x[0]


def region_head(clip: CLIPWrapper, roi_feats: torch.Tensor,
                layer: str | None = None) -> torch.Tensor:
    """The rest of the image tower on RoI features ``[K, C, h, w]`` pooled
    from the ``layer`` map (:func:`dense_features` + RoIAlign): the
    attention pool (RN ``layer4``), ``layer4`` then the attention pool (RN
    ``layer3``, RegionCLIP's C4 head) or ``ln_post`` + ``proj`` (ViT);
    returns unit rows ``[K, D]``."""
    layer = dense_layer(clip, layer)
    v = clip.visual
    x = roi_feats.to(clip.dtype)
    with clip.grad_context('image'):
        if clip.kind == 'resnet':
            if layer == 'layer3':
                x = v.layer4(x)
            out = attention_pool(v.attnpool, x)
        else:
            return vit_region_head(v, x)
    return F.normalize(out.float(), dim=-1)


def vit_region_head(visual, roi_feats: torch.Tensor) -> torch.Tensor:
    """The ViT region head on RoI token features ``[K, C, h, w]``: the
    RoI-averaged tokens through ``ln_post`` and ``proj`` of the open_clip
    ``VisionTransformer`` ``visual`` (LN per token before the average for
    ``pool_type='avg'`` towers, as the tower does); unit rows ``[K, D]``.
    Also the VLM / distillation head of DITO (Sec. 3.1, 3.4), on maps of a
    finetuned copy of the tower."""
    tokens = roi_feats.flatten(2).transpose(1, 2)           # K (hw) C
    if visual.pool_type == 'avg' and not visual.final_ln_after_pool:
        pooled = visual.ln_post(tokens).mean(dim=1)
    else:
        pooled = visual.ln_post(tokens.mean(dim=1))
    out = pooled @ visual.proj if visual.proj is not None else pooled
    return F.normalize(out.float(), dim=-1)


def default_roi_size(clip: CLIPWrapper,
                     layer: str | None = None) -> tuple[int, int]:
    """RoI grid whose head output is the pooling head's native grid: the
    attention-pool grid (RN ``layer4``, e.g. 7x7 for RN50 at 224), twice it
    (RN ``layer3``: 14x14, halved by ``layer4`` as in RegionCLIP's C4 head)
    or the patch grid (ViT, e.g. 7x7 for ViT-B-32 at 224)."""
    layer = dense_layer(clip, layer)
    if clip.kind == 'resnet':
        s = dense_stride(clip, layer)
        return (clip.image_size[0] // s, clip.image_size[1] // s)
    return tuple(clip.visual.grid_size)


def boxes_to_rois(boxes: Sequence[torch.Tensor]) -> torch.Tensor:
    """Per-image ``[k, 4]`` boxes to ``[sum k, 5]`` rois (image index first)."""
    rois = [torch.cat([b.new_full((len(b), 1), i), b.reshape(-1, 4)], 1)
            for i, b in enumerate(boxes)]
    return torch.cat(rois) if rois else torch.zeros(0, 5)


def pool_regions(clip: CLIPWrapper, feats: torch.Tensor,
                 boxes: Sequence[torch.Tensor],
                 roi_size: int | tuple[int, int] | None = None,
                 sampling_ratio: int = 0, aligned: bool = True,
                 layer: str | None = None) -> torch.Tensor:
    """Region embeddings ``[sum k, D]`` from dense features: THE region
    embedding of ``ovd_ext`` (RoIAlign, then :func:`region_head`).

    Args:
        feats: ``dense_features(clip, images, layer)``, ``[N, C, h, w]``.
        boxes: per image a ``[k, 4]`` float xyxy tensor in input pixels of
            the images that gave ``feats``.
        roi_size: RoIAlign output grid (default :func:`default_roi_size`).
        sampling_ratio, aligned: RoIAlign options (see module doc).
        layer: the layer ``feats`` come from (default: the tower's default,
            see :func:`dense_features`).
    """
    if len(boxes) != feats.shape[0]:
        raise ValueError(f'{feats.shape[0]} feature maps but {len(boxes)} '
                         'box lists')
    layer = dense_layer(clip, layer)
    size = roi_size or default_roi_size(clip, layer)
    size = (size, size) if isinstance(size, int) else tuple(size)
    roi_align = RoIAlign(size, spatial_scale=1.0 / dense_stride(clip, layer),
                         sampling_ratio=sampling_ratio, pool_mode='avg',
                         aligned=aligned)
    rois = boxes_to_rois([b.to(feats.device).float() for b in boxes])
    if len(rois) == 0:
        return torch.zeros(0, clip.embed_dim, device=feats.device)
    with clip.grad_context('image'):
        # mmcv's kernels index raw memory: the input must be contiguous
        roi_feats = roi_align(feats.float().contiguous(), rois)
    return region_head(clip, roi_feats, layer)


def encode_regions(clip: CLIPWrapper, images: torch.Tensor,
                   boxes: Sequence[torch.Tensor], layer: str | None = None,
                   **kwargs) -> torch.Tensor:
    """Region embeddings ``[sum k, D]``: :func:`dense_features` of the
    normalised ``images`` at ``layer`` then :func:`pool_regions`
    (``kwargs`` go there)."""
    return pool_regions(clip, dense_features(clip, images, layer), boxes,
                        layer=layer, **kwargs)
