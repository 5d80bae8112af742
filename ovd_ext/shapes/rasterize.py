"""Turn one posed class instance into an RGB patch, an alpha and a mask."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from .categories import (CLASS_COLOR_PROB, CLASS_COLORS, CLASS_PATTERN,
                         CLASS_PATTERN_PROB, PATTERNS)
from .drawing import ACCENT, BODY, DARK, LIGHT, WOOD, posed_parts
from .textures import (COLOR_NAMES, PALETTE, jittered, pattern_weight,
                       pick_color, second_color)

SUPERSAMPLE = 4   # polygons are drawn at 4x and box-filtered (anti-aliasing)
OUTLINE_PROB = 0.5


@dataclass
class ObjectPatch:
    """A rendered instance, its box-local pixels and its attributes."""

    name: str
    rgb: np.ndarray      # [h, w, 3] float32
    alpha: np.ndarray    # [h, w] float32 coverage in [0, 1]
    mask: np.ndarray     # [h, w] bool, coverage >= 0.5
    color: str           # palette name of the main colour (for captions)
    pattern: str         # one of PATTERNS


def rasterize(parts: list[tuple[int, np.ndarray]], pad: int = 1
              ) -> tuple[np.ndarray, np.ndarray]:
    """Part-id map [h, w] uint8 and coverage [h, w] float32 of posed parts."""
    solid = np.concatenate([p for _, p in parts])
    w = int(np.ceil(solid[:, 0].max())) + 2 * pad
    h = int(np.ceil(solid[:, 1].max())) + 2 * pad
    ss = SUPERSAMPLE
    canvas = Image.new('L', (w * ss, h * ss), 0)
    draw = ImageDraw.Draw(canvas)
    for part, poly in parts:
        pts = (poly + pad) * ss
        draw.polygon([(float(x), float(y)) for x, y in pts], fill=int(part))
    hi = np.asarray(canvas)
    cover = np.zeros((h, w), np.float32)
    for dy in range(ss):            # box filter of the ss*ss samples
        for dx in range(ss):
            cover += hi[dy::ss, dx::ss] > 0
    alpha = cover / (ss * ss)
    label = hi[ss // 2::ss, ss // 2::ss].copy()
    ys, xs = np.nonzero((label == 0) & (alpha > 0))   # centre sample missed
    if len(ys):
        label[ys, xs] = hi.reshape(h, ss, w, ss)[ys, :, xs, :].max(axis=(1, 2))
    return label, alpha


def _erode(mask: np.ndarray) -> np.ndarray:
    m = np.pad(mask, 1)
    return (m[1:-1, 1:-1] & m[:-2, 1:-1] & m[2:, 1:-1] & m[1:-1, :-2]
            & m[1:-1, 2:])


def render_object(name: str, size: float, rng: np.random.Generator,
                  background_rgb: np.ndarray | None = None) -> ObjectPatch:
    """Draw a random instance of class ``name`` about ``size`` px large.

    The main colour is a palette colour (class-favoured ones more often) that
    contrasts with ``background_rgb``; the BODY part carries the class-typical
    pattern with probability ``CLASS_PATTERN_PROB``; other parts have fixed
    roles (accent colour, dark wheels / eyes / handles, light windows, wooden
    trunks / doors). Half of the instances get a dark outline, and always the
    low-contrast ones and small patterned ones (their form must stay legible).
    """
    parts, size_px = posed_parts(name, rng, size)
    label, alpha = rasterize(parts)
    h, w = label.shape
    color = pick_color(rng, background_rgb, CLASS_COLORS.get(name, ()),
                       CLASS_COLOR_PROB)
    pattern = CLASS_PATTERN[name] if rng.random() < CLASS_PATTERN_PROB else \
        PATTERNS[int(rng.integers(len(PATTERNS)))]
    main = jittered(color, rng)
    weight = pattern_weight(pattern, h, w, size_px, rng)[..., None]
    body = main * (1 - weight) + second_color(color, pattern, rng) * weight
    accent_name = pick_color(rng, np.array(PALETTE[color], np.float32))
    fills = {ACCENT: jittered(accent_name, rng),
             DARK: np.full(3, rng.uniform(20, 55), np.float32),
             LIGHT: jittered('white', rng, 10) * np.array(
                 [rng.uniform(0.8, 0.95), rng.uniform(0.88, 1.0), 1.0],
                 np.float32),
             WOOD: jittered('brown', rng)}
    rgb = np.where((label == BODY)[..., None], body, 0).astype(np.float32)
    for part, col in fills.items():
        rgb[label == part] = col
    mask = alpha >= 0.5
    low_contrast = background_rgb is not None and np.linalg.norm(
        main - background_rgb) < 90
    small_patterned = size_px < 32 and pattern != 'plain'
    if low_contrast or small_patterned or rng.random() < OUTLINE_PROB:
        edge = (alpha > 0) & ~_erode(mask)
        rgb[edge] = main * rng.uniform(0.2, 0.45)
    return ObjectPatch(name, rgb, alpha, mask, color, pattern)


assert set(COLOR_NAMES) >= {c for v in CLASS_COLORS.values() for c in v}
