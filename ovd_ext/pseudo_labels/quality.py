"""Pseudo-label quality as in VL-PLM Table 4 / supplement B.2.

* AP@PL: box AP at IoU 0.5 of the pseudo labels against the ground truth of
  the target classes, ranking by the pseudo label ``score``.
* #@PL: pseudo labels (of the target classes) per image.

Protocol of the paper's evaluation: ground truth restricted to the target
(novel) classes and images that contain at least one of them
(``images='with-target-gt'``, the default; the authors' COCO val set of 2064
images). ``images='all'`` uses every image of the pseudo-label json.

AP is computed with the project's one evaluation engine, faster-coco-eval
(as :mod:`ovd_ext.evaluation`), whose numbers are those of pycocotools'
``COCOeval`` (101-point interpolation, at most 100 labels per image and
class).
"""
from __future__ import annotations

import contextlib
import io
from typing import Sequence

import numpy as np

from .record import (PseudoLabelFormatError, check_annotations,
                     check_categories, format_drops, load_json,
                     read_pseudo_label_file)

IMAGE_SETS = ('with-target-gt', 'all')


def load_coco(obj, what: str = 'json file') -> dict:
    """A COCO dict from a path (clear errors) or an already loaded dict."""
    data = obj if isinstance(obj, dict) else load_json(obj, what)
    where = obj if isinstance(obj, str) else f'<{what}>'
    if not isinstance(data, dict):
        raise PseudoLabelFormatError(where, None, None,
                                     'expected a COCO-style object')
    for key in ('annotations', 'categories'):
        if key not in data:
            raise PseudoLabelFormatError(where, None, key, 'missing')
    check_categories(data['categories'], where)
    return data


def _target_ids(gt: dict, targets: Sequence[str] | None) -> list[int]:
    cats = {c['name']: int(c['id']) for c in gt['categories']}
    if targets is None:
        return sorted(cats.values())
    missing = [t for t in targets if t not in cats]
    if missing:
        raise ValueError(f'target class {missing[0]!r} is not a category of '
                         'the ground-truth json')
    return sorted(cats[t] for t in targets)


def _mean_valid(s: np.ndarray) -> float:
    """pycocotools' mean over entries > -1, or -1 when there are none."""
    valid = s[s > -1]
    return float(np.mean(valid)) if valid.size else -1.0


def _evaluate(gt_sub: dict, res: list[dict], img_ids: list[int],
              cat_ids: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """faster-coco-eval bbox precision ``[T, R, K]`` (area all, 100 dets)
    and the IoU thresholds ``[T]``."""
    from faster_coco_eval import COCO
    from faster_coco_eval.core.faster_eval_api import COCOeval_faster
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO(gt_sub)
        coco_dt = coco_gt.loadRes(res)
        ev = COCOeval_faster(coco_gt, coco_dt, 'bbox',
                             print_function=lambda *a, **k: None)
        ev.params.imgIds = img_ids
        ev.params.catIds = cat_ids
        ev.evaluate()
        ev.accumulate()
    return np.asarray(ev.eval['precision'])[:, :, :, 0, -1], np.asarray(
        ev.params.iouThrs)


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
        'num_gt', 'per_class_AP50': {name: AP50}, 'dropped': {reason: n}}``
        with APs in percent (as the paper's tables) and NaN where no ground
        truth exists; ``dropped`` counts pseudo labels left out because
        their score or box is not finite or the box has no area.
    """
    if images not in IMAGE_SETS:
        raise ValueError(f'images must be one of {IMAGE_SETS}, got {images!r}')
    gt = load_coco(gt_json, 'ground-truth file')
    pl = (read_pseudo_label_file(pl_json) if isinstance(pl_json, str)
          else load_coco(pl_json, 'pseudo labels'))
    where = pl_json if isinstance(pl_json, str) else '<pseudo labels>'
    pl_anns, dropped = check_annotations(
        pl['annotations'], where, ('image_id', 'category_id', 'bbox',
                                   'score'),
        {int(c['id']) for c in pl['categories']})
    cat_ids = _target_ids(gt, targets)
    cset = set(cat_ids)
    pl_imgs = {int(im['id']) for im in pl.get('images', [])} or {
        int(a['image_id']) for a in pl_anns}
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
    dets = [a for a in pl_anns
            if int(a['category_id']) in cset and int(a['image_id']) in iset]
    out = {'num_images': len(img_ids), 'num_pl': len(dets),
           'num_gt': sum(int(a['image_id']) in iset for a in gt_anns),
           '#@PL': len(dets) / max(len(img_ids), 1),
           'dropped': dict(dropped)}
    if dropped:
        from mmengine.logging import print_log
        print_log(f'{where}: {format_drops(dropped)} pseudo labels left out '
                  'of AP@PL / #@PL', logger='current')
    if not gt_anns or not img_ids:
        out.update({'AP@PL': float('nan'), 'AP@PL[0.5:0.95]': float('nan'),
                    'per_class_AP50': {}})
        return out
    if not dets:
        out.update({'AP@PL': 0.0, 'AP@PL[0.5:0.95]': 0.0,
                    'per_class_AP50': {}})
        return out
    gt_sub = {'images': [im for im in gt['images'] if int(im['id']) in iset],
              'categories': gt['categories'],
              'annotations': [dict(a, id=i + 1) for i, a in enumerate(gt_anns)
                              if int(a['image_id']) in iset]}
    for a in gt_sub['annotations']:
        a.setdefault('iscrowd', 0)
        a.setdefault('area', a['bbox'][2] * a['bbox'][3])
    res = [{'image_id': int(a['image_id']),
            'category_id': int(a['category_id']),
            'bbox': list(a['bbox']), 'score': float(a['score'])}
           for a in dets]
    prec, thrs = _evaluate(gt_sub, res, img_ids, cat_ids)
    t50 = int(np.where(np.isclose(thrs, 0.5))[0][0])
    names = {int(c['id']): c['name'] for c in gt['categories']}
    per_class = {}
    for k, cid in enumerate(cat_ids):
        p = prec[t50, :, k]
        per_class[names[cid]] = (float(np.mean(p[p > -1])) * 100
                                 if (p > -1).any() else float('nan'))
    out.update({'AP@PL': _mean_valid(prec[t50]) * 100,
                'AP@PL[0.5:0.95]': _mean_valid(prec) * 100,
                'per_class_AP50': per_class})
    return out
