"""Crop embeddings: boxes cut out of the image, resized, encoded in batches.

This is the VL-PLM region scoring input (Sec. 3.2: crops at 1x and 1.5x the
box, resized to the CLIP input size, embeddings averaged by the caller).
"""
from __future__ import annotations

from typing import Iterator, Sequence

import torch
from tqdm import tqdm

from .wrapper import CLIPWrapper
from .image import ImageLike, encode_image, resize_normalize, to_chw_float


def scale_boxes(boxes: torch.Tensor, scale: float,
                img_hw: tuple[int, int]) -> torch.Tensor:
    """Enlarge (or shrink) xyxy boxes by ``scale`` around their centres and
    clip them to the image ``[0, W] x [0, H]``.

    Width and height are each multiplied by ``scale``; the centre is kept
    before clipping (a box at the border therefore loses its outside part and
    is no longer centred on the original box). Returns float boxes ``[k, 4]``.
    """
    if scale <= 0:
        raise ValueError(f'scale must be > 0, got {scale}')
    boxes = boxes.reshape(-1, 4).float()
    h, w = img_hw
    cx = (boxes[:, 0] + boxes[:, 2]) * 0.5
    cy = (boxes[:, 1] + boxes[:, 3]) * 0.5
    half_w = (boxes[:, 2] - boxes[:, 0]) * (0.5 * scale)
    half_h = (boxes[:, 3] - boxes[:, 1]) * (0.5 * scale)
    out = torch.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], 1)
    out[:, 0::2] = out[:, 0::2].clamp(0, w)
    out[:, 1::2] = out[:, 1::2].clamp(0, h)
    return out


def crop_bounds(boxes: torch.Tensor, img_hw: tuple[int, int]) -> torch.Tensor:
    """Integer pixel bounds ``[k, 4]`` (x1, y1, x2, y2; x2/y2 exclusive) that
    cover each float box, inside the image and at least 1 pixel wide/high."""
    h, w = img_hw
    b = boxes.reshape(-1, 4).float()
    x1 = b[:, 0].floor().clamp(0, w - 1)
    y1 = b[:, 1].floor().clamp(0, h - 1)
    x2 = torch.maximum(b[:, 2].ceil().clamp(1, w), x1 + 1)
    y2 = torch.maximum(b[:, 3].ceil().clamp(1, h), y1 + 1)
    return torch.stack([x1, y1, x2, y2], 1).long()


def _crops(clip: CLIPWrapper, images: Sequence[ImageLike],
           boxes: Sequence[torch.Tensor], scales: Sequence[float],
           max_value: float, bgr: bool) -> Iterator[torch.Tensor]:
    """Yield preprocessed crops ``[3, S, S]`` box-major, scale-minor."""
    for img, bxs in zip(images, boxes):
        chw = to_chw_float(img, max_value, bgr, clip.device)
        hw = (int(chw.shape[1]), int(chw.shape[2]))
        bounds = torch.stack([crop_bounds(scale_boxes(bxs, s, hw), hw)
                              for s in scales], 1).tolist()  # [k, S, 4]
        for per_box in bounds:
            for x1, y1, x2, y2 in per_box:
                yield resize_normalize(clip, chw[:, y1:y2, x1:x2])


def encode_crops(clip: CLIPWrapper, images: Sequence[ImageLike],
                 boxes: Sequence[torch.Tensor],
                 scales: Sequence[float] = (1.0, 1.5), batch_size: int = 64,
                 max_value: float = 255.0, bgr: bool = False,
                 progress: bool = False) -> torch.Tensor:
    """Embeddings of image crops ``[sum k, len(scales), D]`` (unit rows).

    Each box is scaled around its centre by every factor in ``scales`` and
    clipped to the image (:func:`scale_boxes`), cut out at integer pixels
    covering it, resized to the model input size (aspect ratio not kept,
    antialiased bicubic), normalised and encoded ``batch_size`` crops per
    forward across images.

    Args:
        images: per image an HxWx3 array or a 3xHxW tensor (layouts and
            value ranges as in :mod:`ovd_ext.vlm.image`).
        boxes: per image a ``[k, 4]`` xyxy tensor in that image's pixels.
    """
    if len(images) != len(boxes):
        raise ValueError(f'{len(images)} images but {len(boxes)} box lists')
    scales = list(scales)
    if not scales or batch_size < 1:
        raise ValueError(f'need scales (got {scales}) and batch_size >= 1 '
                         f'(got {batch_size})')
    total = sum(int(b.reshape(-1, 4).shape[0]) for b in boxes) * len(scales)
    bar = tqdm(total=total, desc='crops', unit='crop') if progress else None
    out, batch = [], []
    for crop in _crops(clip, images, boxes, scales, max_value, bgr):
        batch.append(crop)
        if len(batch) == batch_size:
            out.append(encode_image(clip, torch.stack(batch)))
            batch = []
            if bar is not None:
                bar.update(batch_size)
    if batch:
        out.append(encode_image(clip, torch.stack(batch)))
        if bar is not None:
            bar.update(len(batch))
    if bar is not None:
        bar.close()
    emb = (torch.cat(out) if out else
           torch.zeros(0, clip.embed_dim, device=clip.device))
    return emb.view(-1, len(scales), clip.embed_dim)
