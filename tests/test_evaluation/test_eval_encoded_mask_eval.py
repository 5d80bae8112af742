"""EncodedMaskEval and LVISGroundTruth.mask_rles: segm figures bit-identical
to stock faster-coco-eval, with every mask encoded at most once."""
import copy
import gc

import numpy as np
import pytest
from faster_coco_eval.core import mask as mask_utils
from faster_coco_eval.core.faster_eval_api import COCOeval_faster

import ovd_ext.evaluation.fast_lvis_eval as fast_lvis_eval
from ovd_ext.evaluation import (LVIS_AP_KEYS, LVIS_AR_KEYS, build_lvis_gt,
                                evaluate_lvis)


def _stock(gt, dt, **kwargs) -> COCOeval_faster:
    """What evaluate_lvis ran for segm before EncodedMaskEval."""
    return COCOeval_faster(gt.coco, dt, 'segm', **kwargs)


def _uncompressed(rle: dict) -> dict:
    """The same mask as an uncompressed RLE (column-major run lengths)."""
    flat = mask_utils.decode(rle).ravel(order='F')
    bounds = np.concatenate(
        ([0], np.flatnonzero(np.diff(flat)) + 1, [flat.size]))
    counts = np.diff(bounds).tolist()
    if flat[0]:
        counts = [0] + counts
    return dict(size=list(rle['size']), counts=counts)


def _mixed_formats(dets: list) -> list:
    """Every mask format a result file may hold: compressed RLE with str or
    bytes counts, uncompressed RLE, polygons, and a box without a mask."""
    out = copy.deepcopy(dets)
    for k, det in enumerate(out):
        kind = k % 5
        if kind == 1:
            det['segmentation']['counts'] = \
                det['segmentation']['counts'].encode()
        elif kind == 2:
            det['segmentation'] = _uncompressed(det['segmentation'])
        elif kind == 3:
            x, y, w, h = det['bbox']
            det['segmentation'] = [[x, y, x + w, y, x + w, y + h, x, y + h]]
        elif kind == 4:
            del det['segmentation']
    return out


@pytest.mark.parametrize('chunk_budget', [10**9, 40])
def test_bit_identical_to_stock_faster_coco_eval(lvis_data, monkeypatch,
                                                 chunk_budget):
    gt_dict, _, dets = lvis_data
    dets = _mixed_formats(dets)
    ours = evaluate_lvis(build_lvis_gt(gt_dict), dets, 'segm',
                         chunk_budget=chunk_budget)
    monkeypatch.setattr(fast_lvis_eval, 'EncodedMaskEval', _stock)
    stock = evaluate_lvis(build_lvis_gt(gt_dict), dets, 'segm',
                          chunk_budget=chunk_budget)
    assert np.array_equal(ours.precision, stock.precision)
    assert np.array_equal(ours.recall, stock.recall)
    assert ours.stats == stock.stats
    assert 0.05 < ours.stats['AP'] < 0.95
    # masks matter: the box IoUs of the same results give other figures
    boxes = evaluate_lvis(build_lvis_gt(gt_dict), dets, 'bbox')
    assert boxes.stats['AP'] != ours.stats['AP']


def test_segm_matches_lvis_api_exactly_in_every_format(lvis_data,
                                                       lvis_reference):
    gt_dict, gt_path, dets = lvis_data
    dets = _mixed_formats(dets)
    ours = evaluate_lvis(build_lvis_gt(gt_dict), dets, 'segm').stats
    ref = lvis_reference(gt_path, dets, 'segm')
    diff = max(abs(ours[k] - ref[k]) for k in LVIS_AP_KEYS + LVIS_AR_KEYS)
    assert diff < 1e-12


def test_gt_masks_encoded_once_and_gt_untouched(lvis_data, monkeypatch):
    gt_dict, _, dets = lvis_data
    gt = build_lvis_gt(gt_dict)
    calls = []
    encode = mask_utils.segmToRle
    monkeypatch.setattr(mask_utils, 'segmToRle',
                        lambda *a: calls.append(1) or encode(*a))
    first = evaluate_lvis(gt, dets, 'segm', chunk_budget=40).stats
    n_first = len(calls)
    # GT of (image, category) pairs that have detections, each once
    assert 0 < len(gt.rle_cache) <= len(gt_dict['annotations'])
    assert n_first == len(gt.rle_cache)
    assert evaluate_lvis(gt, dets, 'segm').stats == first
    assert len(calls) == n_first  # the second run re-encoded no GT mask
    # faster-coco-eval's own segm run would add an "rle" to every GT dict
    assert not any('rle' in a for a in gt.coco.dataset['annotations'])
    ann = gt.coco.dataset['annotations'][0]
    img = gt.coco.imgs[ann['image_id']]
    expected = encode(ann['segmentation'], img['width'], img['height'])
    assert gt.mask_rles([ann]) == [expected]
    assert mask_utils.area(expected) > 0


def test_bad_masks_name_file_and_item(lvis_data):
    gt_dict, _, dets = lvis_data
    broken = copy.deepcopy(gt_dict)
    ann = broken['annotations'][3]
    ann['segmentation'] = {'size': [10, 10], 'counts': 7}
    gt = build_lvis_gt(broken, where='val.json')
    with pytest.raises(ValueError,
                       match=rf'val\.json: annotation id {ann["id"]} '):
        gt.mask_rles([gt.coco.anns[ann['id']]])
    # a result mask of the wrong type names its image and category
    img_id, cat_id = ann['image_id'], ann['category_id']
    bad = dict(image_id=img_id, category_id=cat_id, score=0.9,
               bbox=list(ann['bbox']), segmentation={'counts': 3.5})
    with pytest.raises(ValueError, match=rf'image id {img_id}, category id '
                       rf'{cat_id}.*neither polygons nor an RLE'):
        evaluate_lvis(build_lvis_gt(gt_dict), [bad], 'segm')


@pytest.mark.parametrize('enabled', [True, False])
def test_garbage_collector_state_restored(lvis_data, enabled):
    gt_dict, _, dets = lvis_data
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        evaluate_lvis(build_lvis_gt(gt_dict), dets[:200], 'segm')
        assert gc.isenabled() == enabled
        with pytest.raises(ValueError):  # also after an error inside
            evaluate_lvis(build_lvis_gt(gt_dict),
                          [dict(dets[0], category_id=-1)], 'segm')
        assert gc.isenabled() == enabled
    finally:
        gc.enable() if was else gc.disable()
