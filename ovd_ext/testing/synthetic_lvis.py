"""Seeded synthetic LVIS v1 ground truth and detections, for tests and
benchmarks of the LVIS metric (no dataset download needed).

The ground truth has long-tailed categories (r / c / f), non-contiguous
ids, per-image ``neg_category_ids`` and ``not_exhaustive_category_ids``,
polygon masks and boxes of all sizes (small / medium / large). Detections
mix jittered copies of GT boxes (right or wrong class) with random boxes on
annotated, negative and unrelated categories, so that the federated filter,
the not-exhaustive rule and the per-image limit all matter.
"""
from typing import Dict, List, Optional, Tuple

import numpy as np

from ..evaluation.ov_splits import LVIS_FREQUENCIES

#: Share of LVIS v1 categories that are rare / common / frequent.
LVIS_FREQ_SHARE = (337 / 1203, 461 / 1203, 405 / 1203)
#: How often a category of each group appears, relative to a rare one.
_FREQ_WEIGHT = {'r': 1.0, 'c': 4.0, 'f': 16.0}
_CUT = 0.25  # octagon corner cut, as a fraction of the box side


def _octagon(x: float, y: float, w: float, h: float,
             cut: float = _CUT) -> List[float]:
    """Flat polygon of the octagon inscribed in a box."""
    cx, cy = cut * w, cut * h
    return [x + cx, y, x + w - cx, y, x + w, y + cy, x + w, y + h - cy,
            x + w - cx, y + h, x + cx, y + h, x, y + h - cy, x, y + cy]


def _boxes(rng: np.random.Generator, n: int, img_w: float,
           img_h: float) -> np.ndarray:
    """n random [x, y, w, h] boxes with log-uniform sides (4 .. 300 px)."""
    side = np.exp(rng.uniform(np.log(4.0), np.log(300.0), size=(n, 2)))
    w = np.minimum(side[:, 0], img_w - 1)
    h = np.minimum(side[:, 1], img_h - 1)
    x = rng.uniform(0, img_w - w)
    y = rng.uniform(0, img_h - h)
    return np.stack([x, y, w, h], axis=1)


def make_lvis_gt(num_images: int = 30,
                 num_categories: int = 12,
                 gt_per_image: float = 6.0,
                 image_size: Tuple[int, int] = (200, 400),
                 seed: int = 0,
                 shuffle_categories: bool = False) -> dict:
    """An LVIS v1-format ground-truth dict (see module docstring)."""
    rng = np.random.default_rng(seed)
    cat_ids = np.sort(rng.choice(np.arange(1, 3 * num_categories + 1),
                                 num_categories, replace=False))
    freqs = rng.choice(list(LVIS_FREQUENCIES), num_categories,
                       p=LVIS_FREQ_SHARE)
    if num_categories >= 3:  # every group present
        freqs[:3] = rng.permutation(list(LVIS_FREQUENCIES))
    cats = [dict(id=int(c), name=f'cat_{int(c)}', synset=f'cat_{int(c)}.n.01',
                 frequency=str(f), image_count=0, instance_count=0)
            for c, f in zip(cat_ids, freqs)]
    if shuffle_categories:
        cats = [cats[i] for i in rng.permutation(num_categories)]
    weight = np.array([_FREQ_WEIGHT[f] for f in freqs])
    weight /= weight.sum()
    img_ids = np.sort(rng.choice(np.arange(1, 10 * num_images + 1),
                                 num_images, replace=False))
    images, anns = [], []
    for img_id in img_ids.tolist():
        w, h = (int(v) for v in rng.integers(*image_size, size=2))
        n = int(rng.poisson(gt_per_image))
        labels = rng.choice(num_categories, n, p=weight)
        for box, k in zip(_boxes(rng, n, w, h), labels):
            x, y, bw, bh = (float(v) for v in box)
            anns.append(dict(
                id=len(anns) + 1, image_id=img_id,
                category_id=int(cat_ids[k]), bbox=[x, y, bw, bh],
                area=bw * bh * (1 - 2 * _CUT**2),
                segmentation=[_octagon(x, y, bw, bh)]))
        pos = set(int(cat_ids[k]) for k in labels)
        others = [int(c) for c in cat_ids if int(c) not in pos]
        n_neg = min(len(others), int(rng.integers(0, 5)))
        neg = sorted(int(c) for c in rng.choice(others, n_neg,
                                                replace=False)) \
            if n_neg else []
        nel = sorted(c for c in pos if rng.random() < 0.2)
        images.append(dict(id=img_id, width=w, height=h,
                           coco_url=f'http://x/{img_id:012d}.jpg',
                           neg_category_ids=neg,
                           not_exhaustive_category_ids=nel))
    for cat in cats:
        cat['instance_count'] = sum(a['category_id'] == cat['id']
                                    for a in anns)
    return dict(info={}, licenses=[], images=images, annotations=anns,
                categories=cats)


def make_lvis_dets(gt: dict,
                   dets_per_image: Optional[int] = None,
                   seed: int = 1,
                   with_masks: bool = False,
                   overflow_images: int = 0,
                   score_decimals: Optional[int] = None) -> List[dict]:
    """LVIS result dicts for ``gt``.

    Args:
        gt: from :func:`make_lvis_gt`.
        dets_per_image: exact count per image; None draws 0 .. 12 per GT
            box plus a few.
        seed: random seed.
        with_masks: add an RLE ``segmentation`` (octagon of the box).
        overflow_images: this many images get 350 detections (> 300).
        score_decimals: round scores to create ties.
    """
    rng = np.random.default_rng(seed)
    cat_ids = np.array([c['id'] for c in gt['categories']])
    by_img: Dict[int, List[dict]] = {}
    for ann in gt['annotations']:
        by_img.setdefault(ann['image_id'], []).append(ann)
    overflow = set(rng.choice([i['id'] for i in gt['images']],
                              overflow_images, replace=False).tolist()) \
        if overflow_images else set()
    dets: List[dict] = []
    for img in gt['images']:
        gts = by_img.get(img['id'], [])
        if img['id'] in overflow:
            n = 350
        elif dets_per_image is not None:
            n = dets_per_image
        else:
            n = int(rng.integers(0, 3 * len(gts) + 4))
        n_hit = min(n, 2 * len(gts))
        src = rng.integers(0, max(len(gts), 1), n_hit)
        boxes = _boxes(rng, n, img['width'], img['height'])
        cats = rng.choice(cat_ids, n)
        local = [a['category_id'] for a in gts] + img['neg_category_ids']
        if local:
            near = rng.random(n) < 0.6
            cats[near] = rng.choice(local, int(near.sum()))
        # an overflow image ranks its random boxes above its hits, so the
        # 300 cut drops true positives
        hi = img['id'] in overflow
        scores = rng.uniform(0.4 if hi else 0.0, 0.9 if hi else 0.7, n)
        for j, g in enumerate(src.tolist()):
            gx, gy, gw, gh = gts[g]['bbox']
            jit = rng.normal(0, 0.12, 4) * [gw, gh, gw, gh]
            w = max(1.0, gw + jit[2])
            h = max(1.0, gh + jit[3])
            x = float(np.clip(gx + jit[0], 0, img['width'] - w))
            y = float(np.clip(gy + jit[1], 0, img['height'] - h))
            boxes[j] = [x, y, w, h]
            if rng.random() < 0.8:
                cats[j] = gts[g]['category_id']
            scores[j] = rng.uniform(0.0, 0.6) if hi else rng.uniform(0.2, 1)
        if score_decimals is not None:
            scores = np.round(scores, score_decimals)
        for box, c, s in zip(boxes.tolist(), cats.tolist(), scores.tolist()):
            det = dict(image_id=img['id'], category_id=c, bbox=box, score=s)
            if with_masks:
                det['segmentation'] = _rle_octagon(box, img['height'],
                                                   img['width'])
            dets.append(det)
    return dets


def _rle_octagon(box: List[float], height: int, width: int) -> dict:
    """Compressed RLE (counts as str) of a box's octagon."""
    from pycocotools import mask as mask_utils
    rles = mask_utils.frPyObjects([_octagon(*box)], height, width)
    rle = mask_utils.merge(rles)
    return dict(size=rle['size'], counts=rle['counts'].decode())
