"""Light augmentation for contrastive pairs: box jitter, random crops, flips.

Crops are cut and resized exactly as :func:`ovd_ext.vlm.encode_crops` does at
inference (integer bounds covering the box, aspect ratio not kept, antialiased
bicubic to the model input size, :func:`~ovd_ext.vlm.image.resize_normalize`),
so a jittered training crop and a 1x / 1.5x test crop differ only by the
jitter. No colour jitter: colour words are part of the descriptions. Flips are
horizontal only (a vertically flipped mushroom or house is another object).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import torch

from ..wrapper import CLIPWrapper
from ..crops import crop_bounds
from ..image import resize_normalize


@dataclass
class JitterConfig:
    """Random box enlargement / shift for object crops and image crops.

    Attributes:
        scale_range: box side multiplier, drawn log-uniformly (covers the
            1x and 1.5x crops of VL-PLM Sec. 3.2).
        shift: centre shift as a fraction of the box side (normal std).
        aspect: max relative change of the aspect ratio (log-uniform).
        image_area: kept fraction of a whole image for image-level pairs.
        flip_prob: probability of a horizontal flip.
    """

    scale_range: tuple[float, float] = (0.9, 1.6)
    shift: float = 0.06
    aspect: float = 0.15
    image_area: tuple[float, float] = (0.75, 1.0)
    flip_prob: float = 0.5


def jitter_box(box_xyxy: np.ndarray, img_hw: tuple[int, int],
               rng: np.random.Generator,
               cfg: JitterConfig = JitterConfig()) -> np.ndarray:
    """A randomly scaled, shifted and stretched copy of one xyxy box, clipped
    to the image; the result keeps at least 1 pixel of area."""
    x1, y1, x2, y2 = (float(v) for v in box_xyxy)
    w, h = max(x2 - x1, 1.0), max(y2 - y1, 1.0)
    lo, hi = np.log(cfg.scale_range[0]), np.log(cfg.scale_range[1])
    s = float(np.exp(rng.uniform(lo, hi)))
    a = float(np.exp(rng.uniform(-cfg.aspect, cfg.aspect)))
    cx = (x1 + x2) / 2 + rng.normal(0.0, cfg.shift) * w
    cy = (y1 + y2) / 2 + rng.normal(0.0, cfg.shift) * h
    hw, hh = w * s * a / 2, h * s / a / 2
    ih, iw = img_hw
    out = np.array([cx - hw, cy - hh, cx + hw, cy + hh], dtype=np.float32)
    out[0::2] = out[0::2].clip(0, iw)
    out[1::2] = out[1::2].clip(0, ih)
    return out


def random_image_box(img_hw: tuple[int, int], rng: np.random.Generator,
                     cfg: JitterConfig = JitterConfig()) -> np.ndarray:
    """A random sub-window of the whole image keeping ``cfg.image_area`` of
    its area (aspect ratio of the image kept)."""
    ih, iw = img_hw
    frac = float(np.sqrt(rng.uniform(*cfg.image_area)))
    w, h = iw * frac, ih * frac
    x1 = rng.uniform(0, iw - w)
    y1 = rng.uniform(0, ih - h)
    return np.array([x1, y1, x1 + w, y1 + h], dtype=np.float32)


def crop_resize(clip: CLIPWrapper, image: torch.Tensor, box: np.ndarray,
                flip: bool = False) -> torch.Tensor:
    """Cut ``box`` (xyxy, float) out of a uint8 ``[3, H, W]`` image as
    :func:`~ovd_ext.vlm.encode_crops` does and return the normalised model
    input ``[3, S, S]`` (mirrored left-right if ``flip``)."""
    hw = (int(image.shape[1]), int(image.shape[2]))
    x1, y1, x2, y2 = crop_bounds(torch.as_tensor(box)[None], hw)[0].tolist()
    crop = image[:, y1:y2, x1:x2].float().div_(255.0)
    if flip:
        crop = crop.flip(-1)
    return resize_normalize(clip, crop)


_LEFT_RIGHT = re.compile(r'\b(left|right)\b', re.IGNORECASE)


def mirror_text(text: str) -> str:
    """Swap 'left' and 'right' so a caption still fits its flipped image."""
    def swap(m: re.Match) -> str:
        word = m.group(0)
        new = 'right' if word.lower() == 'left' else 'left'
        return new.capitalize() if word[0].isupper() else new
    return _LEFT_RIGHT.sub(swap, text)
