"""LVIS v1-format jsons: a long-tailed federated train split and a val split.

LVIS groups classes by the number of TRAIN images they are annotated in: rare
1-10, common 11-100, frequent >100 (on ~100k images). We keep those numbers at
the default size (2000 train images) and scale them linearly with the number of
train images otherwise (``frequency_thresholds``); rare is exactly the novel
set (LVIS OVD protocol).

The train split is federated as LVIS is. For each rare / common class only a
random few images keep its annotations (1..rare_max / rare_max+1..common_max);
in the others its objects stay in the picture, unannotated, and the class is
neither positive nor negative there (unknown, as in LVIS). In some images a
class with several instances loses some of them and is listed in
``not_exhaustive_category_ids``; ``neg_category_ids`` is a random few of the
classes verified absent. Images left with no annotation are dropped.
"""
from __future__ import annotations

import numpy as np

from .annotations import INFO, LICENSES
from .categories import (CLASSES, COMMON_CLASSES, DEFINITIONS, RARE_CLASSES,
                         SYNONYMS, category_id)

COCO_URL_ROOT = 'http://images.cocodataset.org/'   # mmdet strips this prefix
LVIS_RARE_MAX, LVIS_COMMON_MAX, REFERENCE_NUM_TRAIN = 10, 100, 2000
NOT_EXHAUSTIVE_PROB = 0.15
TRAIN_NEG_RANGE = (1, 6)      # 1..5 verified-absent classes per train image
VAL_NEG_FRACTION = 0.5        # half of the absent classes in val images


def frequency_thresholds(num_train: int) -> tuple[int, int]:
    """(rare_max, common_max) image counts for ``num_train`` train images."""
    scale = num_train / REFERENCE_NUM_TRAIN
    rare_max = max(1, round(LVIS_RARE_MAX * scale))
    return rare_max, max(rare_max + 1, round(LVIS_COMMON_MAX * scale))


def frequency_of(image_count: int, rare_max: int, common_max: int) -> str:
    """LVIS frequency letter of a class annotated in ``image_count`` images."""
    if image_count <= rare_max:
        return 'r'
    return 'c' if image_count <= common_max else 'f'


def intended_frequency() -> dict[str, str]:
    """The frequency letter each class is meant to get (rare = novel)."""
    return {n: 'r' if n in RARE_CLASSES else 'c' if n in COMMON_CLASSES
            else 'f' for n in CLASSES}


def lvis_image(image: dict, neg: list[int], not_exhaustive: list[int]) -> dict:
    """LVIS image entry: mmdet builds the file name from ``coco_url``."""
    return dict(image, coco_url=COCO_URL_ROOT + image['file_name'],
                neg_category_ids=sorted(neg),
                not_exhaustive_category_ids=sorted(not_exhaustive))


def lvis_annotation(ann: dict) -> dict:
    """LVIS annotation: COCO's minus ``iscrowd`` and our extra attributes."""
    return {k: ann[k] for k in ('id', 'image_id', 'category_id',
                                'segmentation', 'area', 'bbox')}


def lvis_categories(anns: list[dict], rare_max: int, common_max: int
                    ) -> list[dict]:
    """Categories with LVIS fields, counted on the (train) ``anns``."""
    images = {c: set() for c in range(1, len(CLASSES) + 1)}
    instances = dict.fromkeys(images, 0)
    for a in anns:
        images[a['category_id']].add(a['image_id'])
        instances[a['category_id']] += 1
    return [{'id': i + 1, 'name': n, 'synset': f'{n.replace(" ", "_")}.n.01',
             'synonyms': list(SYNONYMS[n]), 'def': DEFINITIONS[n],
             'image_count': len(images[i + 1]),
             'instance_count': instances[i + 1],
             'frequency': frequency_of(len(images[i + 1]), rare_max,
                                       common_max)}
            for i, n in enumerate(CLASSES)]


def _neg(present: set[int], rng: np.random.Generator, count: int) -> list[int]:
    absent = [c for c in range(1, len(CLASSES) + 1) if c not in present]
    count = min(count, len(absent))
    return [int(c) for c in rng.choice(absent, count, replace=False)] \
        if count else []


def lvis_train(records: list[dict], anns: list[dict], num_train: int,
               rng: np.random.Generator) -> dict:
    """The long-tailed federated LVIS train json (see module docstring).

    Args:
        records: per-image records (``image``, ``present`` category ids).
        anns: the numbered COCO train annotations of those images.
        num_train: number of train images (sets the frequency thresholds).
        rng: generator for which images keep a class, drops and negatives.
    """
    rare_max, common_max = frequency_thresholds(num_train)
    by_cat: dict[int, set[int]] = {}
    for a in anns:
        by_cat.setdefault(a['category_id'], set()).add(a['image_id'])
    keep_images: dict[int, set[int]] = {}
    for name in CLASSES:
        cid = category_id(name)
        imgs = sorted(by_cat.get(cid, ()))
        if name in RARE_CLASSES:
            target = int(rng.integers(1, rare_max + 1))
        elif name in COMMON_CLASSES:
            target = int(rng.integers(rare_max + 1, common_max + 1))
        else:
            target = len(imgs)
        n = min(target, len(imgs))
        keep_images[cid] = set(
            rng.choice(imgs, n, replace=False).tolist()) if n else set()
    per_image: dict[int, list[dict]] = {}
    for a in anns:
        if a['image_id'] in keep_images[a['category_id']]:
            per_image.setdefault(a['image_id'], []).append(a)
    images, out_anns = [], []
    for rec in records:
        img_id = rec['image']['id']
        kept = per_image.get(img_id, [])
        not_exhaustive = []
        if kept and rng.random() < NOT_EXHAUSTIVE_PROB:
            counts: dict[int, int] = {}
            for a in kept:
                counts[a['category_id']] = counts.get(a['category_id'], 0) + 1
            multi = sorted(c for c, k in counts.items() if k >= 2)
            if multi:
                cid = multi[int(rng.integers(len(multi)))]
                idx = [i for i, a in enumerate(kept)
                       if a['category_id'] == cid]
                drop = set(rng.choice(idx, int(rng.integers(1, len(idx))),
                                      replace=False).tolist())
                kept = [a for i, a in enumerate(kept) if i not in drop]
                not_exhaustive = [cid]
        if not kept:
            continue
        neg = _neg(set(rec['present']), rng,
                   int(rng.integers(*TRAIN_NEG_RANGE)))
        images.append(lvis_image(rec['image'], neg, not_exhaustive))
        out_anns += [lvis_annotation(a) for a in kept]
    cats = lvis_categories(out_anns, rare_max, common_max)
    return {'info': dict(INFO), 'licenses': [dict(x) for x in LICENSES],
            'images': images, 'annotations': out_anns,
            'categories': cats}


def lvis_val(records: list[dict], anns: list[dict],
             train_categories: list[dict], rng: np.random.Generator) -> dict:
    """LVIS val json: every val image and annotation (exhaustive), negatives a
    random half of the absent classes, categories (with their train counts and
    frequency) as in the train json, as LVIS v1 val does."""
    images = []
    for rec in records:
        present = set(rec['present'])
        k = int(np.ceil(VAL_NEG_FRACTION * (len(CLASSES) - len(present))))
        images.append(lvis_image(rec['image'], _neg(present, rng, k), []))
    return {'info': dict(INFO), 'licenses': [dict(x) for x in LICENSES],
            'images': images,
            'annotations': [lvis_annotation(a) for a in anns],
            'categories': [dict(c) for c in train_categories]}
