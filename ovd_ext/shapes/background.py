"""Cluttered textured backgrounds and distractor blobs that are no category."""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from . import geometry as G
from .textures import COLOR_NAMES, PALETTE

BACKGROUND_KINDS: tuple[str, ...] = ('plain', 'noisy', 'striped', 'checkered',
                                     'cloudy')


def _smooth_noise(h: int, w: int, cells: int, rng: np.random.Generator
                  ) -> np.ndarray:
    """[h, w] value noise in about [-1, 1], ``cells`` blobs across."""
    grid = rng.uniform(-1, 1, (cells + 1, cells + 1)).astype(np.float32)
    img = Image.fromarray(grid, mode='F').resize((w, h), Image.BILINEAR)
    return np.asarray(img, dtype=np.float32)


def _muted_color(rng: np.random.Generator) -> np.ndarray:
    rgb = rng.uniform(40, 215, 3)
    gray = rgb.mean()
    return (gray + (rgb - gray) * rng.uniform(0.2, 0.7)).astype(np.float32)


def make_background(h: int, w: int, rng: np.random.Generator
                    ) -> tuple[np.ndarray, str]:
    """A [h, w, 3] float32 background and a caption word for its kind.

    A linear gradient between two muted colours, plus smooth value noise, plus
    (by kind) low-contrast stripes / checks / strong clouds, plus pixel noise.
    """
    kind = BACKGROUND_KINDS[int(rng.integers(len(BACKGROUND_KINDS)))]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    a = rng.uniform(0, 2 * np.pi)
    t = xx * np.cos(a) + yy * np.sin(a)
    t = ((t - t.min()) / max(float(np.ptp(t)), 1.0))[..., None]
    c0, c1 = _muted_color(rng), _muted_color(rng)
    img = c0 * (1 - t) + c1 * t
    img += _smooth_noise(h, w, int(rng.integers(3, 9)), rng)[..., None] * \
        rng.uniform(8, 25)
    contrast = rng.uniform(12, 30)
    tint = rng.uniform(0.6, 1.0, 3).astype(np.float32)
    if kind == 'striped':
        period = rng.uniform(6, 18)
        b = rng.uniform(0, np.pi)
        s = np.sin((xx * np.cos(b) + yy * np.sin(b)) * 2 * np.pi / period)
        img += (s > 0)[..., None] * contrast * tint
    elif kind == 'checkered':
        cell = rng.uniform(8, 20)
        chk = ((xx // cell + yy // cell) % 2)[..., None]
        img += chk * contrast * tint
    elif kind == 'cloudy':
        img += _smooth_noise(h, w, int(rng.integers(8, 16)), rng)[..., None] \
            * rng.uniform(25, 45) * tint
    sigma = rng.uniform(6, 12) if kind == 'noisy' else rng.uniform(0, 4)
    img += rng.standard_normal((h, w, 1), dtype=np.float32) * sigma
    return img.astype(np.float32), kind


def draw_distractors(img: np.ndarray, rng: np.random.Generator,
                     count: int) -> np.ndarray:
    """Paint ``count`` irregular blobs and scribbles (no category) on ``img``.

    Blobs have random low harmonics and a rough edge (never a clean circle or
    polygon); scribbles are thick random polylines. They are drawn at 2x and
    box-filtered, so their edges are anti-aliased like the objects' are.
    """
    h, w = img.shape[:2]
    ss = 2
    big = Image.fromarray(np.clip(img + 0.5, 0, 255).astype(np.uint8)).resize(
        (w * ss, h * ss), Image.NEAREST)
    draw = ImageDraw.Draw(big)
    mean = img.reshape(-1, 3).mean(0)
    for _ in range(count):
        name = COLOR_NAMES[int(rng.integers(len(COLOR_NAMES)))]
        mix = rng.uniform(0.35, 0.9)
        col = tuple(int(v) for v in
                    mean * (1 - mix) + np.array(PALETTE[name]) * mix)
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        if rng.random() < 0.6:
            r = rng.uniform(5, 24)
            shape = G.blob(rng, irregularity=rng.uniform(0.3, 0.5))
            poly = G.transform(shape, r * rng.uniform(0.6, 1.4), r,
                               rng.uniform(0, 360))
            draw.polygon([(float(x + cx) * ss, float(y + cy) * ss)
                          for x, y in poly], fill=col)
        else:
            n = int(rng.integers(3, 7))
            steps = rng.normal(0, rng.uniform(6, 14), (n, 2)).cumsum(0)
            pts = [(float(x + cx) * ss, float(y + cy) * ss) for x, y in steps]
            draw.line(pts, fill=col, width=int(rng.integers(2, 5)) * ss,
                      joint='curve')
    return np.asarray(big.resize((w, h), Image.BOX), dtype=np.float32)
