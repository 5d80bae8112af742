"""Pseudo-label quality: boxes as in VL-PLM Table 4 / supplement B.2, and
masks for pseudo masks such as XPM's (``M_o``, Eq. 4 of the XPM paper).

* AP@PL: box AP at IoU 0.5 of the pseudo labels against the ground truth of
  the target classes, ranking by the pseudo label ``score``.
* #@PL: pseudo labels (of the target classes) per image.

Protocol of the paper's evaluation: ground truth restricted to the target
(novel) classes and images that contain at least one of them
(``images='with-target-gt'``, the default; the authors' COCO val set of 2064
images). ``images='all'`` uses every image of the pseudo-label json.

Masks (XPM's pseudo masks): when at least one evaluated pseudo label carries
a ``segmentation`` (RLE ``{'size': [h, w], 'counts': str | [int]}`` or COCO
polygons) and every evaluated ground-truth annotation carries one too, the
result also has

* ``mask AP@PL`` / ``mask AP@PL[0.5:0.95]``: the AP@PL protocol above (same
  images, target classes and score ranking) with mask IoU (COCO ``segm``);
* ``mask mIoU@PL``: the mask IoU of each evaluated pseudo label with its
  best-overlapping ground-truth mask of the same class in the same image
  (0 where there is none), averaged over the pseudo labels;
* ``mask IoU>=0.5@PL``: the share of those pseudo labels whose best IoU is at
  least 0.5;
* ``num_pl_without_mask``: evaluated pseudo labels without a
  ``segmentation``, left out of the mask numbers (kept in the box ones).

Polygons are rasterised at the height and width of the ground-truth json's
image record; an RLE must have that size. The IoUs of ``mask mIoU@PL`` are
plain ones (pycocotools ``mask.iou`` with ``iscrowd`` 0, crowd ground truth
included as ordinary masks). Box-only pseudo labels (e.g. VL-PLM's) give no
mask keys.

AP is computed with the project's one evaluation engine, faster-coco-eval
(as :mod:`ovd_ext.evaluation`), whose numbers are those of pycocotools'
``COCOeval`` (101-point interpolation, at most 100 labels per image and
class). All APs and percentages are in percent.
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


def _to_gt_category_ids(anns: list[dict], pl_cats: list[dict],
                        gt_cats: list[dict]) -> list[dict]:
    """Pseudo labels with the ground truth's category ids, matched by name
    (a labeler may write its own categories, e.g. XPM's caption
    vocabulary); labels of names the ground truth lacks are left out."""
    gt_id = {c['name']: int(c['id']) for c in gt_cats}
    to_gt = {int(c['id']): gt_id.get(c['name']) for c in pl_cats}
    if all(to_gt[k] == k for k in to_gt):
        return anns
    return [dict(a, category_id=to_gt[int(a['category_id'])]) for a in anns
            if to_gt[int(a['category_id'])] is not None]


def _mean_valid(s: np.ndarray) -> float:
    """pycocotools' mean over entries > -1, or -1 when there are none."""
    valid = s[s > -1]
    return float(np.mean(valid)) if valid.size else -1.0


def _evaluate(gt_sub: dict, res: list[dict], img_ids: list[int],
              cat_ids: list[int], iou_type: str = 'bbox'
              ) -> tuple[np.ndarray, np.ndarray]:
    """faster-coco-eval precision ``[T, R, K]`` (area all, 100 dets) for
    ``iou_type`` (``'bbox'`` or ``'segm'``) and the IoU thresholds ``[T]``."""
    from faster_coco_eval import COCO
    from faster_coco_eval.core.faster_eval_api import COCOeval_faster
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO(gt_sub)
        coco_dt = coco_gt.loadRes(res)
        ev = COCOeval_faster(coco_gt, coco_dt, iou_type,
                             print_function=lambda *a, **k: None)
        ev.params.imgIds = img_ids
        ev.params.catIds = cat_ids
        ev.evaluate()
        ev.accumulate()
    return np.asarray(ev.eval['precision'])[:, :, :, 0, -1], np.asarray(
        ev.params.iouThrs)


def _ap50_index(thrs: np.ndarray) -> int:
    return int(np.where(np.isclose(thrs, 0.5))[0][0])


def _log(msg: str) -> None:
    from mmengine.logging import print_log
    print_log(msg, logger='current')


def _image_sizes(gt: dict) -> dict[int, tuple[int, int]]:
    """``{image id: (height, width)}`` of the image records that have both."""
    return {int(im['id']): (int(im['height']), int(im['width']))
            for im in gt.get('images', [])
            if im.get('height') and im.get('width')}


def _to_rle(seg, img_id: int, sizes: dict, what: str) -> dict:
    """Compressed RLE (``counts`` a str) of a polygon or RLE segmentation of
    image ``img_id``, checked against its size (``sizes``: known image
    sizes; an image without a record takes the size of its first RLE)."""
    from pycocotools import mask as mask_utils
    size = sizes.get(img_id)
    if isinstance(seg, list):                       # polygons
        if size is None:
            raise ValueError(f'{what}: polygon masks need the height and '
                             f'width of image {img_id} in the ground-truth '
                             'json')
        rle = mask_utils.merge(mask_utils.frPyObjects(seg, *size))
    else:
        rle_size = (int(seg['size'][0]), int(seg['size'][1]))
        if size is None:
            sizes[img_id] = size = rle_size
        if rle_size != size:
            raise ValueError(f'{what}: mask size {rle_size[0]}x{rle_size[1]}'
                             f' is not that of image {img_id} '
                             f'({size[0]}x{size[1]})')
        rle = (mask_utils.frPyObjects(seg, *rle_size)
               if isinstance(seg['counts'], list) else seg)
    counts = rle['counts']
    return {'size': [int(v) for v in rle['size']],
            'counts': counts.decode('ascii') if isinstance(counts, bytes)
            else counts}


def _gt_has_masks(gt: dict, gt_eval: list[dict]) -> bool:
    """Whether the ground truth can score pseudo masks (logs why not)."""
    if not any(a.get('segmentation') for a in gt['annotations']):
        _log('pseudo labels have masks but the ground truth has none: no '
             'mask metrics')
        return False
    missing = sum(not a.get('segmentation') for a in gt_eval)
    if missing:
        _log(f'{missing} of the {len(gt_eval)} evaluated ground-truth '
             'annotations have no mask: no mask metrics')
        return False
    return True


def _mask_quality(gt: dict, gt_sub: dict, mask_dets: list[dict],
                  num_without: int, img_ids: list[int], cat_ids: list[int],
                  where: str) -> dict:
    """The mask keys of :func:`pseudo_label_quality` (see module doc)."""
    from pycocotools import mask as mask_utils
    sizes = _image_sizes(gt)
    gts = gt_sub['annotations']
    for a in gts:
        a['segmentation'] = _to_rle(a['segmentation'], int(a['image_id']),
                                    sizes, 'ground-truth annotation '
                                    f'{a.get("id")} (image {a["image_id"]})')
    dts = [{'image_id': int(a['image_id']),
            'category_id': int(a['category_id']),
            'segmentation': _to_rle(a['segmentation'], int(a['image_id']),
                                    sizes, f'{where}: pseudo label '
                                    f'{a.get("id", "")} (image '
                                    f'{a["image_id"]})'),
            'score': float(a['score'])} for a in mask_dets]
    by_key: dict = {}
    for a in gts:
        by_key.setdefault((a['image_id'], int(a['category_id'])),
                          []).append(a['segmentation'])
    groups: dict = {}
    for i, d in enumerate(dts):
        groups.setdefault((d['image_id'], d['category_id']), []).append(i)
    best = np.zeros(len(dts))
    for key, idx in groups.items():
        if key in by_key:
            ious = np.asarray(mask_utils.iou(
                [dts[i]['segmentation'] for i in idx], by_key[key],
                [0] * len(by_key[key])))
            best[idx] = ious.reshape(len(idx), -1).max(axis=1)
    out = {'mask AP@PL': float('nan'), 'mask AP@PL[0.5:0.95]': float('nan'),
           'mask mIoU@PL': float(best.mean()) * 100,
           'mask IoU>=0.5@PL': float((best >= 0.5).mean()) * 100,
           'num_pl_without_mask': num_without}
    if gts:
        prec, thrs = _evaluate(gt_sub, dts, img_ids, cat_ids, 'segm')
        out['mask AP@PL'] = _mean_valid(prec[_ap50_index(thrs)]) * 100
        out['mask AP@PL[0.5:0.95]'] = _mean_valid(prec) * 100
    return out


def _box_ap(gt: dict, gt_sub: dict, dets: list[dict], img_ids: list[int],
            cat_ids: list[int]) -> dict:
    """``AP@PL``, ``AP@PL[0.5:0.95]`` and ``per_class_AP50``."""
    if not gt_sub['annotations'] or not img_ids:
        return {'AP@PL': float('nan'), 'AP@PL[0.5:0.95]': float('nan'),
                'per_class_AP50': {}}
    if not dets:
        return {'AP@PL': 0.0, 'AP@PL[0.5:0.95]': 0.0, 'per_class_AP50': {}}
    res = [{'image_id': int(a['image_id']),
            'category_id': int(a['category_id']),
            'bbox': list(a['bbox']), 'score': float(a['score'])}
           for a in dets]
    prec, thrs = _evaluate(gt_sub, res, img_ids, cat_ids)
    t50 = _ap50_index(thrs)
    names = {int(c['id']): c['name'] for c in gt['categories']}
    per_class = {}
    for k, cid in enumerate(cat_ids):
        p = prec[t50, :, k]
        per_class[names[cid]] = (float(np.mean(p[p > -1])) * 100
                                 if (p > -1).any() else float('nan'))
    return {'AP@PL': _mean_valid(prec[t50]) * 100,
            'AP@PL[0.5:0.95]': _mean_valid(prec) * 100,
            'per_class_AP50': per_class}


def pseudo_label_quality(gt_json, pl_json,
                         targets: Sequence[str] | None = None,
                         images: str = 'with-target-gt') -> dict:
    """AP@PL and #@PL of a pseudo-label json, and the mask numbers of pseudo
    masks (see module doc).

    Args:
        gt_json, pl_json: paths or loaded COCO dicts (same image ids).
        targets: class names to evaluate (None: every category).
        images: ``'with-target-gt'`` or ``'all'`` (images of the PL json).

    Returns:
        ``{'AP@PL', 'AP@PL[0.5:0.95]', '#@PL', 'num_images', 'num_pl',
        'num_gt', 'per_class_AP50': {name: AP50}, 'dropped': {reason: n}}``
        with APs in percent (as the paper's tables) and NaN where no ground
        truth exists; ``dropped`` counts pseudo labels left out because
        their score or box is not finite or the box has no area. With pseudo
        masks and ground-truth masks also ``'mask AP@PL'``,
        ``'mask AP@PL[0.5:0.95]'``, ``'mask mIoU@PL'``,
        ``'mask IoU>=0.5@PL'`` (percent) and ``'num_pl_without_mask'``.
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
    pl_anns = _to_gt_category_ids(pl_anns, pl['categories'],
                                  gt['categories'])
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
    gt_eval = [a for a in gt_anns if int(a['image_id']) in iset]
    out = {'num_images': len(img_ids), 'num_pl': len(dets),
           'num_gt': len(gt_eval),
           '#@PL': len(dets) / max(len(img_ids), 1),
           'dropped': dict(dropped)}
    if dropped:
        _log(f'{where}: {format_drops(dropped)} pseudo labels left out of '
             'AP@PL / #@PL')
    gt_sub = {'images': [im for im in gt['images'] if int(im['id']) in iset],
              'categories': gt['categories'],
              'annotations': [dict(a, id=i + 1)
                              for i, a in enumerate(gt_eval)]}
    for a in gt_sub['annotations']:
        a.setdefault('iscrowd', 0)
        a.setdefault('area', a['bbox'][2] * a['bbox'][3])
    out.update(_box_ap(gt, gt_sub, dets, img_ids, cat_ids))
    mask_dets = [a for a in dets if a.get('segmentation') is not None]
    if mask_dets and _gt_has_masks(gt, gt_eval):
        out.update(_mask_quality(gt, gt_sub, mask_dets,
                                 len(dets) - len(mask_dets), img_ids,
                                 cat_ids, where))
    return out
