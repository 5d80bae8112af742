"""Compose a scene: background, distractors, then objects with occlusion."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .background import draw_distractors, make_background
from .rasterize import render_object

MAX_HIDDEN = 0.6          # an object may lose at most 60% of its pixels
PLACEMENT_TRIES = 10
MIN_SIZE, MAX_SIZE = 16, 90


@dataclass
class SceneObject:
    """One drawn object: its visible mask in image coordinates + attributes."""

    name: str
    mask: np.ndarray      # [H, W] bool, the visible part
    full_area: int        # pixels before occlusion
    color: str
    pattern: str
    labeled: bool = True  # False for unlabeled extras (image-label split)


@dataclass
class Scene:
    """A rendered image and what is in it."""

    image: np.ndarray             # [H, W, 3] uint8
    objects: list[SceneObject]
    background: str               # caption word for the background kind


def sample_size(rng: np.random.Generator, width: int, height: int) -> float:
    """Log-uniform object size in [16, min(90, 0.65 * short side)] px."""
    hi = min(MAX_SIZE, 0.65 * min(width, height))
    return float(np.exp(rng.uniform(np.log(MIN_SIZE), np.log(hi))))


def compose_scene(rng: np.random.Generator, width: int, height: int,
                  requests: list[tuple[str, float, bool]],
                  centered_first: bool = False) -> Scene:
    """Render ``requests`` = [(class name, size px, labeled), ...] in order.

    Later objects are drawn over earlier ones. A position that would hide more
    than ``MAX_HIDDEN`` of an earlier object is re-drawn (up to
    ``PLACEMENT_TRIES`` times) and the object is left out if none fits, so no
    drawn object is mostly hidden and every one is annotated; each mask is the
    visible part. With ``centered_first`` the first object is placed near the
    image centre (image-label split: one dominant object).
    """
    bg, kind = make_background(height, width, rng)
    img = draw_distractors(bg, rng, int(rng.integers(2, 9)))
    bg_mean = img.reshape(-1, 3).mean(0)
    objects: list[SceneObject] = []
    visible: list[int] = []       # current visible pixels of each object
    for k, (name, size, labeled) in enumerate(requests):
        patch = render_object(name, size, rng, bg_mean)
        h, w = patch.mask.shape
        if h > height or w > width:
            continue
        area = int(np.count_nonzero(patch.mask))
        pos = None
        for _ in range(PLACEMENT_TRIES):
            if centered_first and k == 0:
                x = int(np.clip((width - w) / 2 + rng.normal(0, 6), 0,
                                width - w))
                y = int(np.clip((height - h) / 2 + rng.normal(0, 6), 0,
                                height - h))
            else:
                x = int(rng.integers(0, width - w + 1))
                y = int(rng.integers(0, height - h + 1))
            if all(v - np.count_nonzero(o.mask[y:y + h, x:x + w] & patch.mask)
                   >= (1 - MAX_HIDDEN) * o.full_area
                   for o, v in zip(objects, visible)):
                pos = (x, y)
                break
        if pos is None:
            continue
        x, y = pos
        a = patch.alpha[..., None]
        region = img[y:y + h, x:x + w]
        img[y:y + h, x:x + w] = region * (1 - a) + patch.rgb * a
        for j, o in enumerate(objects):
            o.mask[y:y + h, x:x + w] &= ~patch.mask
            visible[j] = int(np.count_nonzero(o.mask))
        full = np.zeros((height, width), bool)
        full[y:y + h, x:x + w] = patch.mask
        objects.append(SceneObject(name, full, area, patch.color,
                                   patch.pattern, labeled))
        visible.append(area)
    image = np.clip(img + 0.5, 0, 255).astype(np.uint8)
    return Scene(image, objects, kind)
