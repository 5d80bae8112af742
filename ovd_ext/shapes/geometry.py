"""Polygon primitives in unit coordinates (x right, y down, about [-1, 1])."""
from __future__ import annotations

import numpy as np

Poly = np.ndarray   # [N, 2] float64 vertices


def ellipse(cx: float, cy: float, rx: float, ry: float, n: int = 48,
            a0: float = 0.0, a1: float = 2 * np.pi) -> Poly:
    """Ellipse (or an arc from angle ``a0`` to ``a1``, closed by its chord)."""
    full = abs(a1 - a0) >= 2 * np.pi - 1e-9
    t = np.linspace(a0, a1, n, endpoint=not full)
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], axis=1)


def circle(cx: float, cy: float, r: float, n: int = 48) -> Poly:
    """Circle of radius ``r`` around (cx, cy)."""
    return ellipse(cx, cy, r, r, n)


def rect(x0: float, y0: float, x1: float, y1: float) -> Poly:
    """Axis-aligned rectangle."""
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=float)


def regular(n: int, r: float = 1.0, rot: float = 0.0) -> Poly:
    """Regular ``n``-gon with circumradius ``r``; first vertex at angle ``rot``
    (radians, 0 = pointing up)."""
    t = rot - np.pi / 2 + np.arange(n) * 2 * np.pi / n
    return np.stack([r * np.cos(t), r * np.sin(t)], axis=1)


def star(points: int = 5, r_out: float = 1.0, r_in: float = 0.45) -> Poly:
    """Star with ``points`` tips pointing up first."""
    t = -np.pi / 2 + np.arange(2 * points) * np.pi / points
    r = np.where(np.arange(2 * points) % 2 == 0, r_out, r_in)
    return np.stack([r * np.cos(t), r * np.sin(t)], axis=1)


def heart(n: int = 64) -> Poly:
    """Classic parametric heart, scaled to about [-1, 1], point down."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    x = 16 * np.sin(t) ** 3
    y = -(13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t)
          - np.cos(4 * t))
    return np.stack([x / 17.0, (y + 2.5) / 15.0], axis=1)


def blob(rng: np.random.Generator, n: int = 40, irregularity: float = 0.35
         ) -> Poly:
    """Irregular closed blob: random low harmonics on a circle plus a rough,
    jagged edge, so it never reads as a clean circle, ellipse or star."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    r = np.ones(n)
    for k in range(2, 5):
        r += rng.uniform(0.3, 1.0) * irregularity / (k - 1) * np.cos(
            k * t + rng.uniform(0, 2 * np.pi))
    r += rng.uniform(-0.12, 0.12, n)
    r = np.clip(r, 0.25, None)
    return np.stack([r * np.cos(t), r * np.sin(t)], axis=1)


def transform(poly: Poly, sx: float, sy: float, angle_deg: float,
              flip: bool = False) -> Poly:
    """Scale by (sx, sy), optionally mirror left-right, then rotate."""
    p = poly * np.array([-sx if flip else sx, sy])
    a = np.deg2rad(angle_deg)
    c, s = np.cos(a), np.sin(a)
    return p @ np.array([[c, s], [-s, c]])
