"""Named colours and surface patterns for objects.

Colours come from a small named palette (so captions can say "a red star") with
per-instance jitter; a pattern mixes the main colour with a second one.
"""
from __future__ import annotations

import numpy as np

PALETTE: dict[str, tuple[int, int, int]] = {
    'red': (215, 35, 35), 'orange': (245, 135, 25), 'yellow': (240, 210, 35),
    'green': (40, 160, 55), 'blue': (35, 85, 215), 'purple': (135, 55, 185),
    'pink': (240, 120, 180), 'brown': (130, 80, 40), 'white': (242, 242, 242),
    'black': (25, 25, 25), 'gray': (128, 128, 128), 'cyan': (30, 195, 210)}
COLOR_NAMES: tuple[str, ...] = tuple(PALETTE)

PATTERN_WORDS: dict[str, str] = {
    'plain': '', 'stripes': 'striped', 'dots': 'dotted',
    'checker': 'checkered',
    'gradient': 'shaded', 'speckle': 'speckled'}


def jittered(name: str, rng: np.random.Generator, amount: float = 18.0
             ) -> np.ndarray:
    """RGB float32 of palette colour ``name`` with random jitter."""
    base = np.array(PALETTE[name], dtype=np.float32)
    return np.clip(base + rng.uniform(-amount, amount, 3), 0, 255
                   ).astype(np.float32)


def pick_color(rng: np.random.Generator, avoid: np.ndarray | None = None,
               favour: tuple[str, ...] = (), favour_prob: float = 0.0,
               min_dist: float = 90.0, tries: int = 6) -> str:
    """A palette colour name, preferring ``favour`` and one far from ``avoid``
    (an RGB the colour should contrast with, e.g. the local background)."""
    name = COLOR_NAMES[0]
    for _ in range(tries):
        if favour and rng.random() < favour_prob:
            name = favour[int(rng.integers(len(favour)))]
        else:
            name = COLOR_NAMES[int(rng.integers(len(COLOR_NAMES)))]
        if avoid is None or np.linalg.norm(
                np.array(PALETTE[name], np.float32) - avoid) >= min_dist:
            break
    return name


def second_color(main: str, pattern: str, rng: np.random.Generator
                 ) -> np.ndarray:
    """Second colour of a pattern: a shade of ``main`` for gradients, another
    palette colour (often white/black) otherwise."""
    rgb = np.array(PALETTE[main], np.float32)
    if pattern == 'gradient':
        if rgb.mean() > 140:
            return rgb * rng.uniform(0.35, 0.55)
        return rgb + (255 - rgb) * rng.uniform(0.45, 0.65)
    others = [c for c in COLOR_NAMES if c != main]
    if rng.random() < 0.5:
        return np.array(PALETTE['white' if rgb.mean() < 150 else 'black'],
                        np.float32)
    return jittered(others[int(rng.integers(len(others)))], rng)


def _coords(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    return np.mgrid[0:h, 0:w].astype(np.float32)


def pattern_weight(pattern: str, h: int, w: int, size: float,
                   rng: np.random.Generator) -> np.ndarray:
    """[h, w] float32 in [0, 1]: weight of the second colour at each pixel.

    Pattern periods scale with the object ``size`` so that a pattern stays
    visible on small objects and fine on large ones.
    """
    if pattern == 'plain':
        return np.zeros((h, w), np.float32)
    yy, xx = _coords(h, w)
    if pattern == 'stripes':
        period = max(4.0, size * rng.uniform(0.14, 0.22))
        a = rng.uniform(0, np.pi)
        t = xx * np.cos(a) + yy * np.sin(a) + rng.uniform(0, period)
        return ((t % period) < period * 0.45).astype(np.float32)
    if pattern == 'dots':
        step = max(5.0, size * rng.uniform(0.18, 0.26))
        ox, oy = rng.uniform(0, step, 2)
        dx = (xx + ox) % step - step / 2
        dy = (yy + oy) % step - step / 2
        return (dx * dx + dy * dy <= (0.3 * step) ** 2).astype(np.float32)
    if pattern == 'checker':
        cell = max(3.0, size * rng.uniform(0.1, 0.16))
        ox, oy = rng.uniform(0, cell, 2)
        return ((((xx + ox) // cell) + ((yy + oy) // cell)) % 2
                ).astype(np.float32)
    if pattern == 'gradient':
        a = rng.uniform(0, 2 * np.pi)
        t = xx * np.cos(a) + yy * np.sin(a)
        t = (t - t.min()) / max(float(np.ptp(t)), 1.0)
        return t.astype(np.float32)
    if pattern == 'speckle':
        return (rng.random((h, w)) < 0.3).astype(np.float32)
    raise ValueError(f'unknown pattern {pattern!r}')
