"""Fixtures for the evaluation tests: synthetic LVIS data and lvis-api as
the reference (with numpy's removed ``np.float`` alias restored only while
a test runs)."""
import copy
import functools
import json
from typing import Dict, List, Optional, Sequence

import numpy as np
import pytest

from ovd_ext.testing.synthetic_lvis import make_lvis_dets, make_lvis_gt


def _reference(lvis, gt_path: str, dets: List[dict], iou_type: str,
               img_ids: Optional[Sequence[int]] = None) -> Dict[str, float]:
    """Figures of lvis-api's LVISResults + LVISEval on ``dets`` (and the
    LVISEval object under ``_eval``)."""
    gt = lvis.LVIS(gt_path)
    dt = lvis.LVISResults(gt, copy.deepcopy(dets), max_dets=300)
    ev = lvis.LVISEval(gt, dt, iou_type)
    if img_ids is not None:
        ev.params.img_ids = sorted(set(img_ids))
    ev.evaluate()
    ev.accumulate()
    ev.summarize()
    out = {k: float(v) for k, v in ev.get_results().items()}
    out['_eval'] = ev  # for tests that need the precision array
    return out


@pytest.fixture
def lvis_api():
    """The lvis module, usable on numpy >= 1.24: ``np.float`` (used by
    lvis 0.5.3's accumulate) exists during the test, removed after."""
    import lvis
    added = 'float' not in np.__dict__
    if added:
        np.float = float
    try:
        yield lvis
    finally:
        if added:
            del np.float


@pytest.fixture
def lvis_reference(lvis_api):
    """``f(gt_path, dets, iou_type, img_ids=None)`` -> lvis-api figures."""
    return functools.partial(_reference, lvis_api)


@pytest.fixture(scope='module')
def lvis_data(tmp_path_factory):
    """(gt dict, gt json path, bbox+mask detections) with fixed seeds:
    40 images, 12 categories over r/c/f, 2 images with > 300 dets."""
    gt = make_lvis_gt(num_images=40, num_categories=12, seed=3,
                      shuffle_categories=True)
    dets = make_lvis_dets(gt, seed=4, with_masks=True, overflow_images=2)
    path = tmp_path_factory.mktemp('lvis') / 'lvis_v1_val_synth.json'
    path.write_text(json.dumps(gt))
    return gt, str(path), dets
