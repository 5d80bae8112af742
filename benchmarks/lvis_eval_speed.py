"""Time ovd_ext's LVIS evaluation against lvis-api's LVISEval.

Builds a synthetic LVIS v1-sized ground truth (long-tailed r/c/f categories,
federated neg / not-exhaustive lists) and a full result set (``--dets``
detections on every image), evaluates it with
``ovd_ext.evaluation.evaluate_lvis`` (faster-coco-eval) and with lvis-api
(``LVIS`` + ``LVISResults`` + ``LVISEval``), for boxes and for masks, and
prints for each the wall and CPU times, both speed-ups (the CPU one is
the steadier on a busy machine) and the largest absolute difference over
all AP / AR figures (exit status 1 if one is above 1e-12).
Both sides start from the same in-memory result list (built afresh per IoU
type, since lvis-api edits it) and load the same GT json from disk. lvis
0.5.3 needs numpy's removed ``np.float``; it is restored only around the
reference run.

Example (full size, ~1.5M detections per IoU type):
    python benchmarks/lvis_eval_speed.py
Smaller, masks only:
    python benchmarks/lvis_eval_speed.py --images 500 --iou-type segm
"""
import argparse
import contextlib
import gc
import json
import os.path as osp
import resource
import sys
import tempfile
import time
from typing import Dict, Iterator, List, Optional

import numpy as np

from ovd_ext.evaluation import (LVIS_AP_KEYS, LVIS_AR_KEYS, evaluate_lvis,
                                load_lvis_gt)
from ovd_ext.testing.synthetic_lvis import make_lvis_dets, make_lvis_gt

FIGURES = LVIS_AP_KEYS + LVIS_AR_KEYS


@contextlib.contextmanager
def numpy_float_alias() -> Iterator[None]:
    """Let lvis 0.5.3 use ``np.float`` inside the block only."""
    added = 'float' not in np.__dict__
    if added:
        np.float = float
    try:
        yield
    finally:
        if added:
            del np.float


def run_ours(gt_path: str, dets: List[dict], iou_type: str) -> Dict:
    """GT load + evaluation with ovd_ext (input list left untouched)."""
    gt = load_lvis_gt(gt_path)
    return evaluate_lvis(gt, dets, iou_type).stats


def run_reference(gt_path: str, dets: List[dict], iou_type: str) -> Dict:
    """GT load + LVISResults + LVISEval (mutates ``dets``, as lvis does)."""
    import logging

    from lvis import LVIS, LVISEval, LVISResults
    logging.getLogger().setLevel(logging.WARNING)
    with numpy_float_alias():
        gt = LVIS(gt_path)
        ev = LVISEval(gt, LVISResults(gt, dets, max_dets=300), iou_type)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return {k: float(v) for k, v in ev.get_results().items()}


def peak_rss_gb() -> float:
    """Peak resident memory of this process so far, in GB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


MAX_DIFF = 1e-12  # largest |ovd_ext - lvis-api| accepted on any figure


def compare(gt: dict, gt_path: str, iou_type: str, args) -> Optional[float]:
    """Time both sides on one IoU type; print the table, return the max
    absolute difference (None when the reference is skipped)."""
    t = time.perf_counter()
    dets = make_lvis_dets(gt, args.dets, seed=args.seed + 1,
                          with_masks=iou_type == 'segm')
    print(f'\n[{iou_type}] {len(dets)} detections '
          f'(built in {time.perf_counter() - t:.1f}s)', flush=True)
    gc.collect()
    t, c = time.perf_counter(), time.process_time()
    ours = run_ours(gt_path, dets, iou_type)
    t_ours = time.perf_counter() - t
    c_ours = time.process_time() - c
    print(f'ovd_ext (faster-coco-eval): {t_ours:.2f}s  (CPU {c_ours:.2f}s)  '
          f'peak RSS {peak_rss_gb():.1f} GB', flush=True)
    if args.skip_reference:
        print(' '.join(f'{k}={ours[k]:.4f}' for k in FIGURES))
        return None
    gc.collect()
    t, c = time.perf_counter(), time.process_time()
    ref = run_reference(gt_path, dets, iou_type)
    t_ref = time.perf_counter() - t
    c_ref = time.process_time() - c
    print(f'lvis-api LVISEval:          {t_ref:.2f}s  (CPU {c_ref:.2f}s)  '
          f'peak RSS {peak_rss_gb():.1f} GB', flush=True)
    print(f'{"figure":>8} {"ovd_ext":>10} {"lvis-api":>10}')
    for k in FIGURES:
        print(f'{k:>8} {ours[k]:10.6f} {ref[k]:10.6f}')
    diff = max(abs(ours[k] - ref[k]) for k in FIGURES)
    print(f'[{iou_type}] speed-up: {t_ref / t_ours:.1f}x wall, '
          f'{c_ref / c_ours:.1f}x CPU   max |difference| over '
          f'{len(FIGURES)} figures: {diff:.2e}', flush=True)
    return diff


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--images', type=int, default=5000)
    p.add_argument('--dets', type=int, default=300,
                   help='detections per image')
    p.add_argument('--categories', type=int, default=1203)
    p.add_argument('--gt-per-image', type=float, default=12.0,
                   help='mean GT boxes per image (LVIS v1 val: ~12)')
    p.add_argument('--iou-type', choices=['bbox', 'segm', 'both'],
                   default='both')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--skip-reference', action='store_true',
                   help='time ovd_ext only')
    args = p.parse_args(argv)

    t = time.perf_counter()
    gt = make_lvis_gt(args.images, args.categories, args.gt_per_image,
                      image_size=(400, 800), seed=args.seed)
    print(f'data: {args.images} images, {len(gt["categories"])} categories '
          f'(r/c/f = ' + '/'.join(
              str(sum(c['frequency'] == f for c in gt['categories']))
              for f in 'rcf') + f'), {len(gt["annotations"])} GT, '
          f'{args.dets} detections per image '
          f'(GT built in {time.perf_counter() - t:.1f}s)', flush=True)
    iou_types = ['bbox', 'segm'] if args.iou_type == 'both' \
        else [args.iou_type]
    diffs = []
    with tempfile.TemporaryDirectory() as tmp:
        gt_path = osp.join(tmp, 'lvis_synth_val.json')
        with open(gt_path, 'w') as f:
            json.dump(gt, f)
        for iou_type in iou_types:
            diffs.append(compare(gt, gt_path, iou_type, args))
    return 0 if all(d is None or d <= MAX_DIFF for d in diffs) else 1


if __name__ == '__main__':
    sys.exit(main())
