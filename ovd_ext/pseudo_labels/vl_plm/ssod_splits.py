"""Semi-supervised COCO splits (VL-PLM Sec. 4.2, as STAC / CSD).

``percent`` % of the training images (rounded, at least one) are drawn with a
seeded generator as the labeled set I_L with all their annotations; the rest
are the unlabeled set I_U (images only, no annotations), so I_L and I_U are
disjoint. File names follow STAC's convention:
``instances_train.{seed}@{percent}.json`` and
``instances_train.{seed}@{percent}-unlabeled.json``.
"""
from __future__ import annotations

import os.path as osp
from typing import Sequence

import numpy as np

from ...utils.io import write_json_atomic
from ..record import load_json

#: Sec. 4.2: 1, 2, 5 and 10 % of COCO train2017 are labeled.
PERCENTS = (1.0, 2.0, 5.0, 10.0)


def split_name(prefix: str, seed: int, percent: float) -> tuple[str, str]:
    """Labeled / unlabeled file names for a split."""
    pct = f'{percent:g}'
    return (f'{prefix}.{seed}@{pct}.json',
            f'{prefix}.{seed}@{pct}-unlabeled.json')


def ssod_split(coco: dict, percent: float, seed: int) -> tuple[dict, dict]:
    """Labeled and unlabeled COCO dicts (see module doc). The draw depends
    only on the sorted image ids, ``percent`` and ``seed``."""
    if not 0 < percent < 100:
        raise ValueError(f'percent must be in (0, 100), got {percent}')
    ids = np.array(sorted(int(im['id']) for im in coco['images']))
    n = max(1, int(round(len(ids) * percent / 100.0)))
    rng = np.random.default_rng(seed)
    labeled = set(ids[rng.permutation(len(ids))[:n]].tolist())
    base = {k: v for k, v in coco.items()
            if k not in ('images', 'annotations')}
    lab = dict(base,
               images=[im for im in coco['images']
                       if int(im['id']) in labeled],
               annotations=[a for a in coco['annotations']
                            if int(a['image_id']) in labeled])
    unl = dict(base,
               images=[im for im in coco['images']
                       if int(im['id']) not in labeled],
               annotations=[])
    return lab, unl


def make_ssod_splits(ann_file: str, out_dir: str,
                     percents: Sequence[float] = PERCENTS,
                     seeds: Sequence[int] = (1,),
                     prefix: str | None = None) -> list[str]:
    """Write every (seed, percent) split of ``ann_file`` to ``out_dir``
    (atomically; existing files are rewritten identically). Returns paths."""
    coco = load_json(ann_file, 'annotation file')
    if not isinstance(coco, dict) or not isinstance(coco.get('images'), list):
        raise ValueError(f'{ann_file}: expected a COCO json with "images" '
                         'and "annotations"')
    prefix = prefix or osp.splitext(osp.basename(ann_file))[0]
    paths = []
    for seed in seeds:
        for pct in percents:
            lab, unl = ssod_split(coco, pct, seed)
            for data, name in zip((lab, unl), split_name(prefix, seed, pct)):
                path = osp.join(out_dir, name)
                write_json_atomic(path, data)
                paths.append(path)
    return paths
