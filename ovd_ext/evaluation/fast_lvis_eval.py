"""LVIS (federated) evaluation on faster-coco-eval, without ``lvis.LVISEval``.

Reproduces lvis-api 0.5.3 (``LVISResults`` + ``LVISEval``) figure for figure:

* at most ``max_dets`` (300) detections per image, the highest scoring ones
  (``LVISResults.limit_dets_per_image``);
* detection area from its box when it has one (``LVISResults``);
* a detection counts only if its category is annotated in the image or is in
  the image's ``neg_category_ids`` (federated protocol);
* unmatched detections of ``not_exhaustive_category_ids`` are ignored;
* ``iscrowd`` plays no part (LVIS has no crowd regions);
* AP / AP50 / AP75 / APs / APm / APl / APr / APc / APf and AR@300 as in
  ``LVISEval.summarize``.

The matching and accumulation run in faster-coco-eval's C++ code with
``lvis_style=True``; the federated filter and the per-image limit are done
here with numpy so that the C++ side sees only the detections that count,
and categories are evaluated in blocks over only the images where they
occur (:func:`plan_chunks`), since faster-coco-eval walks the whole
images x categories grid, which on LVIS is almost empty. For masks,
:class:`EncodedMaskEval` encodes each GT mask once and takes result RLEs as
given, instead of faster-coco-eval re-encoding every mask in every run.
"""
import contextlib
import gc
from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional, Sequence, Set, Tuple

import numpy as np
from faster_coco_eval import COCO
from faster_coco_eval.core import mask as mask_utils
from faster_coco_eval.core.faster_eval_api import COCOeval_faster

from .encoded_mask_eval import EncodedMaskEval
from .lvis_gt import LVISGroundTruth
from .ov_splits import LVIS_FREQUENCIES

#: Summary figures, in lvis-api's order.
LVIS_AP_KEYS: Tuple[str, ...] = ('AP', 'AP50', 'AP75', 'APs', 'APm', 'APl',
                                 'APr', 'APc', 'APf')
LVIS_AR_KEYS: Tuple[str, ...] = ('AR@300', 'ARs@300', 'ARm@300', 'ARl@300')
_AREA_LABELS = ('all', 'small', 'medium', 'large')
# lvis-api's (and COCO's) IoU and recall thresholds
_IOU_THRS = np.linspace(.5, 0.95, int(np.round((0.95 - .5) / .05)) + 1,
                        endpoint=True)
_REC_THRS = np.linspace(.0, 1.00, int(np.round((1.00 - .0) / .01)) + 1,
                        endpoint=True)
_CHUNK_BUDGET = 2000  # images x categories per faster-coco-eval run


def limit_dets_per_image(img_ids: np.ndarray, scores: np.ndarray,
                         max_dets: int) -> np.ndarray:
    """Indices of the detections lvis-api keeps, in the order it keeps them.

    Same as ``LVISResults.limit_dets_per_image``: images in order of first
    appearance; an image with at most ``max_dets`` detections keeps them in
    input order, a larger one keeps its ``max_dets`` best, best first (a
    stable sort, so ties keep input order).
    """
    n = len(img_ids)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    _, first, inv, counts = np.unique(
        img_ids, return_index=True, return_inverse=True, return_counts=True)
    inv = inv.reshape(-1)
    index = np.arange(n)
    # rank of each detection within its image by descending score
    by_score = np.lexsort((index, -scores, inv))
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    rank = np.empty(n, dtype=np.int64)
    rank[by_score] = index - starts[inv[by_score]]
    over = counts[inv] > max_dets
    keep = np.nonzero(~over | (rank < max_dets))[0]
    within = np.where(over, rank, index)[keep]
    appearance = np.argsort(np.argsort(first, kind='stable'), kind='stable')
    return keep[np.lexsort((within, appearance[inv[keep]]))]


def prepare_lvis_dets(gt: LVISGroundTruth, dets: Sequence[dict],
                      iou_type: str, img_ids: Sequence[int],
                      max_dets: int = 300,
                      where: str = 'results') -> List[dict]:
    """Turn LVIS result dicts into the detections lvis-api would evaluate.

    Checks every detection's image and category against ``gt``, applies the
    per-image limit, sets ``id`` / ``area`` (and for ``segm`` a missing
    ``segmentation``) as ``LVISResults`` does, then drops the detections the
    federated protocol does not look at (outside ``img_ids``, or a category
    neither annotated nor negative in that image). Input dicts are not
    modified.
    """
    n = len(dets)
    if n == 0:
        return []
    try:
        det_img = np.fromiter((d['image_id'] for d in dets), np.int64, n)
        det_cat = np.fromiter((d['category_id'] for d in dets), np.int64, n)
        scores = np.fromiter((d['score'] for d in dets), np.float64, n)
    except KeyError as e:
        raise ValueError(f'{where}: a detection has no {e} field') from e
    bad = np.nonzero(~np.isin(det_img, gt.sorted_img_ids))[0]
    if len(bad):
        raise ValueError(f'{where}: detection #{bad[0]} has image id '
                         f'{det_img[bad[0]]}, which is not in {gt.where}')
    bad = np.nonzero(~np.isin(det_cat, gt.sorted_cat_ids))[0]
    if len(bad):
        raise ValueError(f'{where}: detection #{bad[0]} (image id '
                         f'{det_img[bad[0]]}) has category id '
                         f'{det_cat[bad[0]]}, which is not in {gt.where}')
    order = limit_dets_per_image(det_img, scores, max_dets)
    box_area = 'bbox' in dets[order[0]]
    # federated filter on the kept detections; ids = rank in lvis-api order
    counted = np.isin(gt.pair_keys(det_img[order], det_cat[order]),
                      gt.allowed_keys)
    counted &= np.isin(det_img[order], np.asarray(list(img_ids), np.int64))
    new_ids = np.nonzero(counted)[0] + 1
    segm = iou_type == 'segm'
    out = []
    for i, new_id in zip(order[counted].tolist(), new_ids.tolist()):
        src = dets[i]
        det = dict(id=new_id, image_id=src['image_id'],
                   category_id=src['category_id'], score=src['score'])
        if box_area:
            if 'bbox' not in src:
                raise ValueError(f'{where}: detection #{i} has no "bbox" '
                                 'while the first one has')
            box = det['bbox'] = src['bbox']
            det['area'] = box[2] * box[3]
            if segm:
                x, y, w, h = box
                det['segmentation'] = src.get(
                    'segmentation',
                    [[x, y, x, y + h, x + w, y + h, x + w, y]])
        else:
            if 'segmentation' not in src:
                raise ValueError(f'{where}: detection #{i} has neither '
                                 '"bbox" nor "segmentation"')
            det['segmentation'] = src['segmentation']
            det['area'] = float(mask_utils.area(src['segmentation']))
            det['bbox'] = list(mask_utils.toBbox(src['segmentation']))
        out.append(det)
    return out


def _silent(*args, **kwargs) -> None:
    """Swallow faster-coco-eval's progress prints."""


def _mean_valid(s: np.ndarray) -> float:
    """lvis-api's mean over entries > -1, or -1 when there are none."""
    valid = s[s > -1]
    return float(np.mean(valid)) if valid.size else -1.0


def summarize_lvis(precision: np.ndarray, recall: np.ndarray,
                   iou_thrs: np.ndarray,
                   freq_groups: Sequence[Sequence[int]]) -> Dict[str, float]:
    """The figures of ``LVISEval.summarize`` from accumulated arrays.

    Args:
        precision: [T, R, K, A] precision (-1 where a category has no GT).
        recall: [T, K, A] recall.
        iou_thrs: the T IoU thresholds.
        freq_groups: category indices (into K) of the r, c, f groups.
    """
    out = {'AP': _mean_valid(precision[..., 0])}
    for key, thr in (('AP50', 0.5), ('AP75', 0.75)):
        out[key] = _mean_valid(precision[np.where(iou_thrs == thr)[0], ..., 0])
    for a, label in enumerate(_AREA_LABELS[1:], start=1):
        out[f'AP{label[0]}'] = _mean_valid(precision[..., a])
    for freq, group in zip(LVIS_FREQUENCIES, freq_groups):
        out[f'AP{freq}'] = _mean_valid(precision[:, :, list(group), 0])
    out['AR@300'] = _mean_valid(recall[..., 0])
    for a, label in enumerate(_AREA_LABELS[1:], start=1):
        out[f'AR{label[0]}@300'] = _mean_valid(recall[..., a])
    return out


def _active_images(gt: LVISGroundTruth, kept: List[dict],
                   img_ids: Sequence[int],
                   iou_type: str) -> Dict[int, Set[int]]:
    """Category id -> evaluated images where it has GT or a detection.

    Every other (image, category) pair is empty, so lvis-api's per-pair
    evaluation skips it and it does not change any figure.
    """
    wanted = set(img_ids)
    active: Dict[int, Set[int]] = {}
    for ann in gt.coco.dataset['annotations']:
        if ann['image_id'] in wanted:
            if iou_type == 'segm' and 'segmentation' not in ann:
                raise ValueError(f'{gt.where}: annotation id {ann["id"]} has '
                                 'no "segmentation" for segm evaluation')
            active.setdefault(ann['category_id'], set()).add(ann['image_id'])
    for det in kept:
        active.setdefault(det['category_id'], set()).add(det['image_id'])
    return active


def plan_chunks(active: Dict[int, Set[int]],
                budget: int = _CHUNK_BUDGET
                ) -> List[Tuple[List[int], List[int]]]:
    """Group categories into (categories, images) blocks for faster-coco-eval.

    faster-coco-eval walks the full images x categories grid, but on LVIS a
    category is present (GT or detections) in few images. Categories are
    taken from least to most active and a block is closed once
    ``len(images) * len(categories)`` would pass ``budget``. Per-category
    results do not depend on the other categories nor on images where the
    category is absent, and image ids stay sorted, so the blocks give the
    same precision / recall as one run over the whole grid.
    """
    blocks: List[Tuple[List[int], List[int]]] = []
    cats: List[int] = []
    imgs: Set[int] = set()
    for cat in sorted(active, key=lambda c: (len(active[c]), c)):
        merged = imgs | active[cat]
        if cats and len(merged) * (len(cats) + 1) > budget:
            blocks.append((sorted(cats), sorted(imgs)))
            cats, merged = [], set(active[cat])
        cats.append(cat)
        imgs = merged
    if cats:
        blocks.append((sorted(cats), sorted(imgs)))
    return blocks


def _evaluate_chunk(gt: LVISGroundTruth, dets: List[dict], iou_type: str,
                    cat_ids: List[int], img_ids: List[int],
                    max_dets: int) -> Tuple[np.ndarray, np.ndarray]:
    """faster-coco-eval (LVIS mode) on one block: ([T,R,k,A], [T,k,A])."""
    dt = COCO()
    dt.dataset = dict(images=[gt.coco.imgs[i] for i in img_ids],
                      categories=gt.coco.dataset['categories'],
                      annotations=dets)
    dt.createIndex()
    if iou_type == 'segm':
        ev = EncodedMaskEval(gt, dt, print_function=_silent,
                              lvis_style=True)
    else:
        ev = COCOeval_faster(
            gt.coco, dt, iou_type, print_function=_silent, lvis_style=True)
    ev.params.imgIds = img_ids
    ev.params.catIds = cat_ids
    ev.params.maxDets = [max_dets]
    ev.evaluate()
    ev.accumulate()
    return (np.asarray(ev.eval['precision'])[..., -1],
            np.asarray(ev.eval['recall'])[..., -1])


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector inside the block.

    An evaluation allocates millions of small dicts and lists while the
    caller holds millions more (the result list); every full collection
    walks them all, about a third of the run, and frees nothing (the
    evaluation makes no reference cycles). The previous state is restored
    on exit, as ``timeit`` does.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _evaluate_blocks(gt: LVISGroundTruth, kept: List[dict], iou_type: str,
                     img_ids: List[int], cat_ids: List[int], max_dets: int,
                     chunk_budget: int) -> Tuple[np.ndarray, np.ndarray]:
    """Precision [T, R, K, A] and recall [T, K, A] over ``cat_ids``, one
    faster-coco-eval run per block of :func:`plan_chunks`."""
    active = _active_images(gt, kept, img_ids, iou_type)
    # -1 = no GT, as lvis-api leaves it
    num_thrs, num_rec = len(_IOU_THRS), len(_REC_THRS)
    precision = -np.ones((num_thrs, num_rec, len(cat_ids), 4))
    recall = -np.ones((num_thrs, len(cat_ids), 4))
    column = {c: k for k, c in enumerate(cat_ids)}
    by_cat: Dict[int, List[dict]] = {}
    for det in kept:
        by_cat.setdefault(det['category_id'], []).append(det)
    for chunk_cats, chunk_imgs in plan_chunks(active, chunk_budget):
        p, r = _evaluate_chunk(
            gt, [d for c in chunk_cats for d in by_cat.get(c, ())],
            iou_type, chunk_cats, chunk_imgs, max_dets)
        cols = [column[c] for c in chunk_cats]
        precision[:, :, cols] = p
        recall[:, cols] = r
    return precision, recall


@dataclass
class LVISEvalResult:
    """Output of :func:`evaluate_lvis`.

    Attributes:
        stats: summary figures (``LVIS_AP_KEYS`` + ``LVIS_AR_KEYS``, plus
            ``AP_novel`` / ``AP_base`` when a novel split was given).
        precision: [T, R, K, A] precision over ``cat_ids``.
        recall: [T, K, A] recall.
        cat_ids: sorted category ids, the K axis.
        num_dets: detections that entered the evaluation.
    """
    stats: Dict[str, float]
    precision: np.ndarray
    recall: np.ndarray
    cat_ids: List[int]
    num_dets: int


def evaluate_lvis(gt: LVISGroundTruth,
                  dets: Sequence[dict],
                  iou_type: str = 'bbox',
                  img_ids: Optional[Sequence[int]] = None,
                  max_dets: int = 300,
                  novel_cat_ids: Optional[Sequence[int]] = None,
                  where: str = 'results',
                  chunk_budget: int = _CHUNK_BUDGET) -> LVISEvalResult:
    """Evaluate LVIS-format detections the way lvis-api does, fast.

    Args:
        gt: ground truth from :func:`build_lvis_gt`.
        dets: result dicts (``image_id``, ``category_id``, ``score``,
            ``bbox`` [x, y, w, h] and/or ``segmentation`` RLE).
        iou_type: 'bbox' or 'segm'.
        img_ids: images to evaluate; all of ``gt`` when None.
        max_dets: detections kept per image (LVIS: 300).
        novel_cat_ids: if given, also report ``AP_novel`` over these
            categories and ``AP_base`` over the rest.
        where: name of the result source for error messages.
        chunk_budget: images x categories per faster-coco-eval run (see
            :func:`plan_chunks`); affects speed only.
    """
    if iou_type not in ('bbox', 'segm'):
        raise ValueError(f"iou_type must be 'bbox' or 'segm', got {iou_type}")
    if img_ids is None:
        img_ids = gt.img_ids
    img_ids = sorted(set(int(i) for i in img_ids))
    unknown = set(img_ids) - set(gt.img_ids)
    if unknown:
        raise ValueError(f'{where}: image id {min(unknown)} is not in '
                         f'{gt.where}')
    cat_ids = sorted(gt.cat_ids)
    with _gc_paused():
        kept = prepare_lvis_dets(gt, dets, iou_type, img_ids, max_dets,
                                 where)
        precision, recall = _evaluate_blocks(gt, kept, iou_type, img_ids,
                                             cat_ids, max_dets, chunk_budget)
    freq_groups = [[k for k, c in enumerate(cat_ids) if gt.frequency[c] == f]
                   for f in LVIS_FREQUENCIES]
    stats = summarize_lvis(precision, recall, _IOU_THRS, freq_groups)
    if novel_cat_ids is not None:
        novel = set(novel_cat_ids)
        unknown = novel - set(cat_ids)
        if unknown:
            raise ValueError(f'novel category ids {sorted(unknown)} are not '
                             f'in {gt.where}')
        n_idx = [k for k, c in enumerate(cat_ids) if c in novel]
        b_idx = [k for k, c in enumerate(cat_ids) if c not in novel]
        stats['AP_novel'] = _mean_valid(precision[:, :, n_idx, 0])
        stats['AP_base'] = _mean_valid(precision[:, :, b_idx, 0])
    return LVISEvalResult(stats, precision, recall, cat_ids, len(kept))
