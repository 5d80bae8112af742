"""Pseudo-label quality as in VL-PLM Table 4 / supplement B.2.

* AP@PL: box AP at IoU 0.5 of the pseudo labels against the ground truth of
  the target classes, ranking by the pseudo label ``score``.
* #@PL: pseudo labels (of the target classes) per image.

Protocol of the paper's evaluation: ground truth restricted to the target
(novel) classes and images that contain at least one of them
(``images='with-target-gt'``, the default; the authors' COCO val set of 2064
images). ``images='all'`` uses every image of the pseudo-label json.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import os.path as osp
from typing import Sequence

import numpy as np

IMAGE_SETS = ('with-target-gt', 'all')


def _load(obj) -> dict:
    if isinstance(obj, dict):
        return obj
    with open(obj) as f:
        return json.load(f)


def _target_ids(gt: dict, targets: Sequence[str] | None) -> list[int]:
    cats = {c['name']: int(c['id']) for c in gt['categories']}
    if targets is None:
        return sorted(cats.values())
    missing = [t for t in targets if t not in cats]
    if missing:
        raise ValueError(f'target class {missing[0]!r} is not a category of '
                         'the ground-truth json')
    return sorted(cats[t] for t in targets)


def pseudo_label_quality(gt_json, pl_json,
                         targets: Sequence[str] | None = None,
                         images: str = 'with-target-gt') -> dict:
    """AP@PL and #@PL of a pseudo-label json (see module doc).

    Args:
        gt_json, pl_json: paths or loaded COCO dicts (same image ids).
        targets: class names to evaluate (None: every category).
        images: ``'with-target-gt'`` or ``'all'`` (images of the PL json).

    Returns:
        ``{'AP@PL', 'AP@PL[0.5:0.95]', '#@PL', 'num_images', 'num_pl',
        'num_gt', 'per_class_AP50': {name: AP50}}`` with APs in percent
        (as the paper's tables) and NaN where no ground truth exists.
    """
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    if images not in IMAGE_SETS:
        raise ValueError(f'images must be one of {IMAGE_SETS}, got {images!r}')
    gt, pl = _load(gt_json), _load(pl_json)
    cat_ids = _target_ids(gt, targets)
    cset = set(cat_ids)
    pl_imgs = {int(im['id']) for im in pl.get('images', [])} or {
        int(a['image_id']) for a in pl['annotations']}
    gt_imgs = {int(im['id']) for im in gt['images']}
    unknown = pl_imgs - gt_imgs
    if unknown:
        raise ValueError(f'{len(unknown)} pseudo-label images are not in the '
                         f'ground truth (e.g. image id {min(unknown)})')
    gt_anns = [a for a in gt['annotations'] if int(a['category_id']) in cset
               and int(a['image_id']) in pl_imgs]
    if images == 'with-target-gt':
        img_ids = sorted({int(a['image_id']) for a in gt_anns})
    else:
        img_ids = sorted(pl_imgs)
    iset = set(img_ids)
    dets = [a for a in pl['annotations']
            if int(a['category_id']) in cset and int(a['image_id']) in iset]
    out = {'num_images': len(img_ids), 'num_pl': len(dets),
           'num_gt': sum(int(a['image_id']) in iset for a in gt_anns),
           '#@PL': len(dets) / max(len(img_ids), 1)}
    if not gt_anns or not img_ids:
        out.update({'AP@PL': float('nan'), 'AP@PL[0.5:0.95]': float('nan'),
                    'per_class_AP50': {}})
        return out
    gt_sub = {'images': [im for im in gt['images'] if int(im['id']) in iset],
              'categories': gt['categories'],
              'annotations': [dict(a, id=i + 1) for i, a in enumerate(gt_anns)
                              if int(a['image_id']) in iset]}
    for a in gt_sub['annotations']:
        a.setdefault('iscrowd', 0)
        a.setdefault('area', a['bbox'][2] * a['bbox'][3])
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO()
        coco_gt.dataset = gt_sub
        coco_gt.createIndex()
        res = [{'image_id': int(a['image_id']),
                'category_id': int(a['category_id']),
                'bbox': list(a['bbox']), 'score': float(a['score'])}
               for a in dets]
        coco_dt = coco_gt.loadRes(res) if res else COCO()
        if not res:
            out.update({'AP@PL': 0.0, 'AP@PL[0.5:0.95]': 0.0,
                        'per_class_AP50': {}})
            return out
        ev = COCOeval(coco_gt, coco_dt, 'bbox')
        ev.params.imgIds = img_ids
        ev.params.catIds = cat_ids
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    prec = ev.eval['precision'][0, :, :, 0, -1]        # IoU .5, all areas
    names = {int(c['id']): c['name'] for c in gt['categories']}
    per_class = {}
    for k, cid in enumerate(cat_ids):
        p = prec[:, k]
        per_class[names[cid]] = (float(np.mean(p[p > -1])) * 100
                                 if (p > -1).any() else float('nan'))
    out.update({'AP@PL': float(ev.stats[1]) * 100,
                'AP@PL[0.5:0.95]': float(ev.stats[0]) * 100,
                'per_class_AP50': per_class})
    return out


def draw_pseudo_labels(pl_json, img_dir: str, out_dir: str, num: int = 8,
                       gt_json=None, targets: Sequence[str] | None = None,
                       min_score: float = 0.0) -> list[str]:
    """Draw the pseudo labels (and, if ``gt_json`` is given, the target
    ground truth in thin green) of the first ``num`` images that have pseudo
    labels; writes ``<out_dir>/<image id>.png`` and returns the paths."""
    import cv2
    from .runner import read_image
    pl = _load(pl_json)
    names = {int(c['id']): c['name'] for c in pl['categories']}
    keep = None if targets is None else {
        i for i, n in names.items() if n in set(targets)}
    by_img: dict[int, list] = {}
    for a in pl['annotations']:
        if a.get('score', 1.0) >= min_score and (
                keep is None or int(a['category_id']) in keep):
            by_img.setdefault(int(a['image_id']), []).append(a)
    gt_by_img: dict[int, list] = {}
    if gt_json is not None:
        for a in _load(gt_json)['annotations']:
            if keep is None or int(a['category_id']) in keep:
                gt_by_img.setdefault(int(a['image_id']), []).append(a)
    info = {int(im['id']): im for im in pl['images']}
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for img_id in sorted(by_img)[:num]:
        img = read_image(osp.join(img_dir, info[img_id]['file_name'])).copy()
        scale = max(1.0, 512.0 / max(img.shape[:2]))    # readable small images
        if scale > 1:
            img = cv2.resize(img, None, fx=scale, fy=scale,
                             interpolation=cv2.INTER_NEAREST)
        for a in gt_by_img.get(img_id, []):
            x, y, w, h = (v * scale for v in a['bbox'])
            cv2.rectangle(img, (int(x), int(y)), (int(x + w), int(y + h)),
                          (0, 200, 0), 1)
        for a in by_img[img_id]:
            x, y, w, h = (v * scale for v in a['bbox'])
            p1, p2 = (int(x), int(y)), (int(x + w), int(y + h))
            cv2.rectangle(img, p1, p2, (0, 0, 255), 2)
            label = f"{names.get(int(a['category_id']), '?')} {a['score']:.2f}"
            cv2.putText(img, label, (p1[0] + 2, max(p1[1] - 4, 10)),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 255), 1,
                        cv2.LINE_AA)
        path = osp.join(out_dir, f'{img_id}.png')
        cv2.imwrite(path, img)
        paths.append(path)
    return paths
