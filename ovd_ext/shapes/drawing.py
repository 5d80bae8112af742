"""How each of the 20 classes is drawn: a list of coloured polygon parts.

A class is an ordered list of ``(part, polygon)`` in unit coordinates; later
polygons paint over earlier ones and part ``ERASE`` cuts holes. Each class also
says how far it may rotate, whether it may be mirrored, its aspect ratio and
its smallest drawn size in pixels (below which its form would not be readable).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from . import geometry as G

ERASE, BODY, ACCENT, DARK, LIGHT, WOOD = 0, 1, 2, 3, 4, 5


@dataclass
class ShapeSpec:
    """Parts of one drawn instance and how it may be posed."""

    parts: list[tuple[int, np.ndarray]]
    max_rot: float = 0.0          # degrees, uniform in [-max_rot, max_rot]
    flip: bool = False            # may be mirrored left-right
    aspect: tuple[float, float] = (1.0, 1.0)   # (sx, sy) before rotation
    min_size: int = 16            # px, longest side of the drawn box
    extra: dict = field(default_factory=dict)


def _poly(*pts: tuple[float, float]) -> np.ndarray:
    return np.array(pts, dtype=float)


def _arc_band(cx: float, cy: float, r_out: float, r_in: float, a0: float,
              a1: float, n: int = 16) -> np.ndarray:
    """Thick arc (part of an annulus) from angle ``a0`` to ``a1``."""
    t = np.linspace(a0, a1, n)
    outer = np.stack([cx + r_out * np.cos(t), cy + r_out * np.sin(t)], 1)
    inner = np.stack([cx + r_in * np.cos(t[::-1]),
                      cy + r_in * np.sin(t[::-1])], 1)
    return np.concatenate([outer, inner])


def circle(rng) -> ShapeSpec:
    return ShapeSpec([(BODY, G.circle(0, 0, 1, 64))])


def square(rng) -> ShapeSpec:
    return ShapeSpec([(BODY, G.rect(-1, -1, 1, 1))], max_rot=12)


def triangle(rng) -> ShapeSpec:
    return ShapeSpec([(BODY, _poly((0, -1), (1, 0.73), (-1, 0.73)))],
                     max_rot=20)


def star(rng) -> ShapeSpec:
    return ShapeSpec([(BODY, G.star(5, 1.0, rng.uniform(0.38, 0.5)))],
                     max_rot=36)


def hexagon(rng) -> ShapeSpec:
    return ShapeSpec([(BODY, G.regular(6, 1.0, np.pi / 6))], max_rot=30)


def cross(rng) -> ShapeSpec:
    w = rng.uniform(0.27, 0.36)
    pts = _poly((-w, -1), (w, -1), (w, -w), (1, -w), (1, w), (w, w), (w, 1),
                (-w, 1), (-w, w), (-1, w), (-1, -w), (-w, -w))
    return ShapeSpec([(BODY, pts)], max_rot=15)


def heart(rng) -> ShapeSpec:
    return ShapeSpec([(BODY, G.heart())], max_rot=15)


def ring(rng) -> ShapeSpec:
    return ShapeSpec([(BODY, G.circle(0, 0, 1, 64)),
                      (ERASE, G.circle(0, 0, rng.uniform(0.48, 0.6), 48))],
                     min_size=18)


def arrow(rng) -> ShapeSpec:
    hw = rng.uniform(0.14, 0.2)
    return ShapeSpec([(BODY, G.rect(-1, -hw, 0.15, hw)),
                      (BODY, _poly((0.05, -0.55), (1, 0), (0.05, 0.55)))],
                     max_rot=180, aspect=(1.0, 1.0), min_size=18)


def crescent(rng) -> ShapeSpec:
    return ShapeSpec([(BODY, G.circle(0, 0, 1, 64)),
                      (ERASE, G.circle(rng.uniform(0.38, 0.5), -0.1, 0.85,
                                       64))],
                     max_rot=180, min_size=18)


def diamond(rng) -> ShapeSpec:
    return ShapeSpec([(BODY, _poly((0, -1), (0.62, 0), (0, 1), (-0.62, 0)))],
                     max_rot=10)


def ellipse(rng) -> ShapeSpec:
    return ShapeSpec([(BODY, G.ellipse(0, 0, 1, rng.uniform(0.45, 0.58), 64))],
                     max_rot=180)


def house(rng) -> ShapeSpec:
    parts = [(ACCENT, G.rect(0.42, -0.85, 0.6, -0.4)),          # chimney
             (BODY, G.rect(-0.75, -0.15, 0.75, 1.0)),            # walls
             (ACCENT, _poly((-1, -0.1), (0, -1), (1, -0.1))),    # roof
             (WOOD, G.rect(-0.12, 0.42, 0.2, 1.0)),              # door
             (LIGHT, G.rect(-0.58, 0.12, -0.3, 0.4)),            # windows
             (LIGHT, G.rect(0.36, 0.12, 0.6, 0.4))]
    return ShapeSpec(parts, max_rot=6, flip=True, min_size=22)


def tree(rng) -> ShapeSpec:
    if rng.random() < 0.5:     # leafy tree: round crown on a trunk
        parts = [(WOOD, G.rect(-0.13, 0.1, 0.13, 1.0)),
                 (BODY, G.circle(0, -0.35, 0.58)),
                 (BODY, G.circle(-0.38, -0.08, 0.4)),
                 (BODY, G.circle(0.38, -0.08, 0.4)),
                 (BODY, G.circle(0, -0.72, 0.32))]
    else:                      # pine: three stacked triangles
        parts = [(WOOD, G.rect(-0.12, 0.55, 0.12, 1.0)),
                 (BODY, _poly((-0.8, 0.62), (0, -0.1), (0.8, 0.62))),
                 (BODY, _poly((-0.65, 0.2), (0, -0.55), (0.65, 0.2))),
                 (BODY, _poly((-0.48, -0.25), (0, -1.0), (0.48, -0.25)))]
    return ShapeSpec(parts, max_rot=8, flip=True, min_size=22)


def car(rng) -> ShapeSpec:
    body = _poly((-1, -0.05), (-0.9, -0.15), (0.9, -0.15), (1, -0.02),
                 (1, 0.42), (-1, 0.42))
    parts = [(BODY, _poly((-0.55, -0.12), (-0.32, -0.6), (0.36, -0.6),
                          (0.62, -0.12))),
             (BODY, body),
             (LIGHT, _poly((-0.44, -0.17), (-0.27, -0.52), (-0.02, -0.52),
                           (-0.02, -0.17))),
             (LIGHT, _poly((0.06, -0.17), (0.06, -0.52), (0.32, -0.52),
                           (0.5, -0.17))),
             (DARK, G.circle(-0.55, 0.42, 0.27, 32)),
             (DARK, G.circle(0.55, 0.42, 0.27, 32)),
             (LIGHT, G.circle(-0.55, 0.42, 0.1, 16)),
             (LIGHT, G.circle(0.55, 0.42, 0.1, 16))]
    return ShapeSpec(parts, max_rot=6, flip=True, min_size=24)


def umbrella(rng) -> ShapeSpec:
    parts = [(DARK, G.rect(-0.045, -0.1, 0.045, 0.8)),          # shaft
             (DARK, _arc_band(-0.17, 0.8, 0.22, 0.12, 0, np.pi)),  # hook
             (DARK, G.rect(-0.035, -0.95, 0.035, -0.6)),        # tip
             (BODY, G.ellipse(0, 0, 1, 0.78, 40, np.pi, 2 * np.pi))]
    parts += [(ERASE, G.circle(x, 0.02, 0.25, 24))
              for x in (-0.75, -0.25, 0.25, 0.75)]
    parts += [(DARK, G.rect(-0.045, -0.1, 0.045, 0.8))]         # shaft again
    return ShapeSpec(parts, max_rot=15, min_size=22)


def key(rng) -> ShapeSpec:
    parts = [(BODY, G.circle(-0.62, 0, 0.38)),
             (ERASE, G.circle(-0.62, 0, 0.17, 24)),
             (BODY, G.rect(-0.27, -0.09, 1.0, 0.09)),
             (BODY, G.rect(0.55, 0.05, 0.68, 0.34)),
             (BODY, G.rect(0.8, 0.05, 0.92, 0.27))]
    return ShapeSpec(parts, max_rot=180, min_size=28)


def mushroom(rng) -> ShapeSpec:
    ry = rng.uniform(0.65, 0.85)
    parts = [(LIGHT, _poly((-0.24, -0.05), (0.24, -0.05), (0.3, 0.85),
                           (-0.3, 0.85))),
             (BODY, G.ellipse(0, 0.05, 1, ry, 40, np.pi, 2 * np.pi))]
    return ShapeSpec(parts, max_rot=12, min_size=20)


def fish(rng) -> ShapeSpec:
    parts = [(BODY, _poly((0.38, 0), (1, -0.48), (1, 0.48))),        # tail
             (ACCENT, _poly((-0.4, -0.3), (-0.05, -0.64), (0.12, -0.28))),
             (BODY, G.ellipse(-0.2, 0, 0.72, 0.42, 48)),
             (DARK, G.circle(-0.62, -0.08, 0.08, 16))]
    return ShapeSpec(parts, max_rot=20, flip=True, min_size=20)


def cup(rng) -> ShapeSpec:
    parts = [(BODY, G.circle(0.55, -0.02, 0.38)),                    # handle
             (ERASE, G.circle(0.55, -0.02, 0.2, 24)),
             (BODY, _poly((-0.6, -0.75), (0.6, -0.75), (0.45, 0.75),
                          (-0.45, 0.75))),
             (ACCENT, G.rect(-0.6, -0.75, 0.6, -0.6))]               # rim
    return ShapeSpec(parts, max_rot=10, flip=True, min_size=20)


DRAWERS: dict[str, Callable[[np.random.Generator], ShapeSpec]] = {
    f.__name__: f for f in (
        circle, square, triangle, star, hexagon, cross, heart, ring, arrow,
        crescent, diamond, ellipse, house, tree, car, umbrella, key, mushroom,
        fish, cup)}


def posed_parts(name: str, rng: np.random.Generator, size: float
                ) -> tuple[list[tuple[int, np.ndarray]], int]:
    """Parts of a random instance of ``name`` in pixel coordinates.

    The instance is randomly rotated / mirrored / stretched within the class's
    limits, scaled so its longest box side is ``size`` px (at least the class's
    ``min_size``) and shifted so its box starts at (0, 0).

    Returns:
        The posed parts and the drawn size actually used.
    """
    spec = DRAWERS[name](rng)
    size = max(float(size), float(spec.min_size))
    jitter = rng.uniform(0.9, 1.1, size=2)
    sx, sy = spec.aspect[0] * jitter[0], spec.aspect[1] * jitter[1]
    angle = rng.uniform(-spec.max_rot, spec.max_rot) if spec.max_rot else 0.0
    flip = bool(spec.flip and rng.random() < 0.5)
    parts = [(p, G.transform(poly, sx, sy, angle, flip))
             for p, poly in spec.parts]
    solid = np.concatenate([poly for p, poly in parts if p != ERASE])
    lo, hi = solid.min(0), solid.max(0)
    scale = size / float((hi - lo).max())
    parts = [(p, (poly - lo) * scale) for p, poly in parts]
    return parts, int(round(size))
