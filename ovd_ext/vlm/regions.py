"""Region embeddings of VL-PLM Eq. 5 (``phi(sum_s E_im(R_s))``), three ways.

* ``'crops'`` (VL-PLM): every region is cut out of the image at 1x and 1.5x
  its size (enlarged around its centre, clipped to the image), resized to the
  CLIP input size and encoded, many crops per CLIP call
  (:func:`ovd_ext.vlm.encode_crops`).
* ``'fast'`` (Fast VL-PLM, supplement A.2): one CLIP forward over the whole
  image gives a shared feature map; every region (and its 1.5x box) is pooled
  from it with the project's one region-embedding path
  (:func:`ovd_ext.vlm.pool_regions`: RoIAlign to the pooling head's native
  grid, then the model's own attention pool / ViT head). The paper instead
  crops the features at the integer-rounded box and lets the attention pool
  (without positional embedding) pool the variable-size crop, and reports
  worse pseudo labels with RoI pooling; DESIGN.md §2 keeps one
  region-embedding path, so we use RoIAlign and document the difference.
* ``'fast-ms'`` (Multi-scale Fast VL-PLM, A.2): the image at three short sides
  (224, 672, 1120: feature maps of 7, 21, 35 cells for a stride-32 ResNet);
  a region is pooled from one level chosen by its area: > 64 -> first
  (coarsest) level, 16..64 -> second, else third. The paper does not say in
  which unit the area is measured; we measure it in feature cells of the
  finest level (the only reading in which every level is used: 64 cells of the
  7x7 map would exceed the whole map).

The paper designs the fast variants for ResNet CLIPs; they run on ViT CLIPs too
(patch tokens + ``ln_post``/``proj``), without a paper reference.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch

from .crops import encode_crops, scale_boxes
from .dense import dense_features, pool_regions
from .image import preprocess_images
from .wrapper import CLIPWrapper
from .zero_shot import combine_scales

REGION_MODES = ('crops', 'fast', 'fast-ms')
#: Multi-scale Fast VL-PLM pyramid: short sides (A.2).
MS_SHORT_SIDES = (224, 672, 1120)
#: Area thresholds (feature cells of the finest level): > 64 first level,
#: (16, 64] second, else third (A.2).
MS_AREA_THRESHOLDS = (64.0, 16.0)


def shared_input_size(img_hw: tuple[int, int], stride: int,
                      short_side: int | None = None) -> tuple[int, int]:
    """Network input size ``(H, W)`` for a shared-feature pass: the image
    resized so that its short side is ``short_side`` (None: keep the image's
    own size), aspect kept, each side rounded to a multiple of ``stride``
    (half cells rounded up; at least one cell)."""
    h, w = img_hw
    f = 1.0 if short_side is None else float(short_side) / min(h, w)
    return (max(stride, math.floor(h * f / stride + 0.5) * stride),
            max(stride, math.floor(w * f / stride + 0.5) * stride))


def to_input_boxes(boxes: torch.Tensor, img_hw: tuple[int, int],
                   input_hw: tuple[int, int]) -> torch.Tensor:
    """Map xyxy boxes from image pixels to pixels of the resized input."""
    fy, fx = input_hw[0] / img_hw[0], input_hw[1] / img_hw[1]
    return boxes.float() * boxes.new_tensor([fx, fy, fx, fy]).float()


def scaled_region_boxes(boxes: torch.Tensor, scales: Sequence[float],
                        img_hw: tuple[int, int]) -> list[torch.Tensor]:
    """Per scale the region boxes enlarged around their centres and clipped
    to the image (``R`` and ``R_1.5x`` of Eq. 5), via
    :func:`~ovd_ext.vlm.crops.scale_boxes`."""
    return [scale_boxes(boxes, s, img_hw) for s in scales]


def _image_hw(image: np.ndarray | torch.Tensor) -> tuple[int, int]:
    if isinstance(image, np.ndarray):
        return int(image.shape[0]), int(image.shape[1])
    return int(image.shape[-2]), int(image.shape[-1])


def _shared_level(clip: CLIPWrapper, image, short_side: int | None,
                  bgr: bool) -> tuple[torch.Tensor, tuple[int, int]]:
    hw = _image_hw(image)
    size = shared_input_size(hw, clip.feature_stride, short_side)
    x = preprocess_images(clip, image, size=size, bgr=bgr)
    return dense_features(clip, x), size


def shared_feature_embeddings(clip: CLIPWrapper, image, boxes: torch.Tensor,
                              scales: Sequence[float] = (1.0, 1.5),
                              short_side: int | None = None,
                              bgr: bool = True) -> torch.Tensor:
    """Fast VL-PLM: ``[k, S, D]`` region embeddings pooled from one shared
    feature map of the whole image (see module doc).

    Args:
        image: HxWx3 array (BGR when ``bgr``) or 3xHxW tensor.
        boxes: ``[k, 4]`` xyxy in image pixels.
        short_side: resize the image to this short side for the shared pass
            (None: the image's own resolution, e.g. the detection resolution
            when the caller passes the resized image).
    """
    hw = _image_hw(image)
    k = int(boxes.shape[0])
    if k == 0:
        return torch.zeros(0, len(scales), clip.embed_dim, device=clip.device)
    feats, size = _shared_level(clip, image, short_side, bgr)
    out = [pool_regions(clip, feats, [to_input_boxes(b, hw, size)])
           for b in scaled_region_boxes(boxes, scales, hw)]
    return torch.stack(out, dim=1)


def pyramid_levels(boxes: torch.Tensor, img_hw: tuple[int, int], stride: int,
                   short_sides: Sequence[int] = MS_SHORT_SIDES,
                   area_thresholds: Sequence[float] = MS_AREA_THRESHOLDS
                   ) -> torch.Tensor:
    """For Multi-scale Fast VL-PLM, the index into ``short_sides`` of the
    level each region is pooled from: its area in feature cells of the finest
    level, compared with ``area_thresholds`` (descending; see module doc):
    above the first -> smallest short side, and so on."""
    if list(area_thresholds) != sorted(area_thresholds, reverse=True):
        raise ValueError(f'area_thresholds must be descending, got '
                         f'{area_thresholds}')
    if len(area_thresholds) != len(short_sides) - 1:
        raise ValueError(f'{len(short_sides)} levels need '
                         f'{len(short_sides) - 1} area thresholds, got '
                         f'{len(area_thresholds)}')
    size = shared_input_size(img_hw, stride, max(short_sides))
    b = to_input_boxes(boxes, img_hw, size) / stride
    area = (b[:, 2] - b[:, 0]).clamp(min=0) * (b[:, 3] - b[:, 1]).clamp(min=0)
    level = torch.zeros(len(boxes), dtype=torch.long)
    order = np.argsort(short_sides)   # level 0 = coarsest
    for i, thr in enumerate(area_thresholds):
        level[area.cpu() <= thr] = i + 1
    return torch.as_tensor(order)[level]


def multiscale_feature_embeddings(
        clip: CLIPWrapper, image, boxes: torch.Tensor,
        scales: Sequence[float] = (1.0, 1.5),
        short_sides: Sequence[int] = MS_SHORT_SIDES,
        area_thresholds: Sequence[float] = MS_AREA_THRESHOLDS,
        bgr: bool = True) -> torch.Tensor:
    """Multi-scale Fast VL-PLM: ``[k, S, D]``; each region (all its scales)
    is pooled from the pyramid level :func:`pyramid_levels` assigns it."""
    hw = _image_hw(image)
    k = int(boxes.shape[0])
    out = torch.zeros(k, len(scales), clip.embed_dim, device=clip.device)
    if k == 0:
        return out
    level = pyramid_levels(boxes, hw, clip.feature_stride, short_sides,
                           area_thresholds)
    scaled = scaled_region_boxes(boxes, scales, hw)
    for lvl, side in enumerate(short_sides):
        idx = torch.nonzero(level == lvl, as_tuple=False).flatten()
        if idx.numel() == 0:
            continue
        feats, size = _shared_level(clip, image, side, bgr)
        for s, b in enumerate(scaled):
            out[idx.to(out.device), s] = pool_regions(
                clip, feats, [to_input_boxes(b[idx], hw, size)])
    return out


def region_embeddings(clip: CLIPWrapper, image, boxes: torch.Tensor,
                      mode: str = 'crops',
                      scales: Sequence[float] = (1.0, 1.5),
                      batch_size: int = 64, bgr: bool = True,
                      fast_short_side: int | None = None,
                      ms_short_sides: Sequence[int] = MS_SHORT_SIDES,
                      ms_area_thresholds: Sequence[float] = MS_AREA_THRESHOLDS
                      ) -> torch.Tensor:
    """``phi(sum_s E_im(R_s))`` of VL-PLM Eq. 5, ``[k, D]`` unit rows, for
    ``boxes`` ``[k, 4]`` (xyxy, image pixels) of one image, with the region
    encoder ``mode`` (see module doc; ``batch_size`` crops per CLIP call in
    ``'crops'`` mode)."""
    if mode not in REGION_MODES:
        raise ValueError(f'unknown region mode {mode!r}; one of '
                         f'{REGION_MODES}')
    boxes = boxes.reshape(-1, 4).float().cpu()
    if mode == 'crops':
        emb = encode_crops(clip, [image], [boxes], scales=scales,
                           batch_size=batch_size, bgr=bgr)
    elif mode == 'fast':
        emb = shared_feature_embeddings(clip, image, boxes, scales,
                                        fast_short_side, bgr)
    else:
        emb = multiscale_feature_embeddings(clip, image, boxes, scales,
                                            ms_short_sides,
                                            ms_area_thresholds, bgr)
    return combine_scales(emb)
