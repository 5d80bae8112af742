"""Mask quality of pseudo masks (XPM's M_o, Eq. 4): mask AP@PL, mask
mIoU@PL and mask IoU>=0.5@PL on hand-made 20x20 masks."""
import importlib.util
import json
import math
import os.path as osp

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from ovd_ext.pseudo_labels import pseudo_label_quality

ROOT = osp.join(osp.dirname(__file__), '..', '..')
CATS = [{'id': 1, 'name': 'star'}, {'id': 2, 'name': 'ring'}]
MASK_KEYS = {'mask AP@PL', 'mask AP@PL[0.5:0.95]', 'mask mIoU@PL',
             'mask IoU>=0.5@PL', 'num_pl_without_mask'}


def _mask(rows, cols):
    m = np.zeros((20, 20), np.uint8)
    m[rows[0]:rows[1], cols[0]:cols[1]] = 1
    return m


def _rle(m):
    rle = mask_utils.encode(np.asfortranarray(m))
    return {'size': rle['size'], 'counts': rle['counts'].decode('ascii')}


def _uncompressed_rle(m):
    """COCO uncompressed RLE: run lengths of the column-major pixels, the
    first run one of zeros."""
    flat = m.flatten(order='F')
    edges = np.flatnonzero(np.diff(flat)) + 1
    counts = np.diff(np.r_[0, edges, flat.size]).tolist()
    if flat[0]:
        counts = [0] + counts
    return {'size': [20, 20], 'counts': counts}


def _gt():
    """Image 1: star gt1 = rows/cols 0:10 (a polygon); image 2: star gt2 =
    rows/cols 5:15 (compressed RLE) and ring gt3 = rows/cols 0:4 (polygon).
    """
    anns = [
        {'id': 1, 'image_id': 1, 'category_id': 1, 'bbox': [0, 0, 10, 10],
         'segmentation': [[0, 0, 10, 0, 10, 10, 0, 10]]},
        {'id': 2, 'image_id': 2, 'category_id': 1, 'bbox': [5, 5, 10, 10],
         'segmentation': _rle(_mask((5, 15), (5, 15)))},
        {'id': 3, 'image_id': 2, 'category_id': 2, 'bbox': [0, 0, 4, 4],
         'segmentation': [[0, 0, 4, 0, 4, 4, 0, 4]]}]
    for a in anns:
        a.update(area=a['bbox'][2] * a['bbox'][3], iscrowd=0)
    return {'images': [{'id': i, 'file_name': f'{i}.png', 'width': 20,
                        'height': 20} for i in (1, 2)],
            'categories': CATS, 'annotations': anns}


def _pl(rows):
    """rows: (image, category, bbox, score, segmentation or None)."""
    anns = []
    for k, (i, c, b, s, seg) in enumerate(rows):
        anns.append({'id': k + 1, 'image_id': i, 'category_id': c,
                     'bbox': b, 'score': s, 'pseudo': True})
        if seg is not None:
            anns[-1]['segmentation'] = seg
    return {'images': _gt()['images'], 'categories': CATS,
            'annotations': anns}


# p1: gt1 exactly (IoU 1); p2: box of gt2 but the mask shifted by half its
# width (rows 5:15, cols 10:20): 50 px shared, union 150, IoU 1/3; p3: a
# ring on image 1, which has no ring (IoU 0); p4: a box without a mask.
ROWS = [(1, 1, [0, 0, 10, 10], 0.9, _rle(_mask((0, 10), (0, 10)))),
        (2, 1, [5, 5, 10, 10], 0.7, _rle(_mask((5, 15), (10, 20)))),
        (1, 2, [0, 0, 4, 4], 0.8, _rle(_mask((0, 4), (0, 4)))),
        (2, 1, [5, 5, 10, 10], 0.6, None)]


def test_mask_iou_and_ap_by_hand():
    res = pseudo_label_quality(_gt(), _pl(ROWS))
    assert res['num_pl'] == 4 and res['num_pl_without_mask'] == 1
    assert res['mask mIoU@PL'] == pytest.approx(100 * (1 + 1 / 3 + 0) / 3)
    assert res['mask IoU>=0.5@PL'] == pytest.approx(100 / 3)
    # masks, star: p1 TP, p2 FP at every threshold -> precision 1 up to
    # recall .5: 51/101; ring: one FP, gt3 missed -> 0. Mean of the classes.
    assert res['mask AP@PL'] == pytest.approx(100 * 51 / 101 / 2)
    assert res['mask AP@PL[0.5:0.95]'] == pytest.approx(100 * 51 / 101 / 2)
    # boxes: both stars found (p4 a later duplicate), the ring not
    assert res['AP@PL'] == pytest.approx(50.0)
    assert res['per_class_AP50'] == pytest.approx({'star': 100.0,
                                                   'ring': 0.0})


def test_mask_ap_over_iou_thresholds_and_iou_half():
    # p2: rows 5:14, cols 5:13 inside gt2: IoU 72/100; p3: left half of gt1,
    # IoU exactly .5 (counted as >= .5), a lower-scored duplicate of p1
    rows = [(1, 1, [0, 0, 10, 10], 0.9, _rle(_mask((0, 10), (0, 10)))),
            (2, 1, [5, 5, 8, 9], 0.8, _rle(_mask((5, 14), (5, 13)))),
            (1, 1, [0, 0, 5, 10], 0.5, _rle(_mask((0, 10), (0, 5))))]
    res = pseudo_label_quality(_gt(), _pl(rows), targets=['star'])
    assert res['num_pl_without_mask'] == 0
    assert res['mask mIoU@PL'] == pytest.approx(100 * (1 + .72 + .5) / 3)
    assert res['mask IoU>=0.5@PL'] == pytest.approx(100.0)
    # IoU thresholds .5-.7: both gt found before any FP -> AP 1;
    # .75-.95: p2 is an FP -> 51/101
    assert res['mask AP@PL'] == pytest.approx(100.0)
    assert res['mask AP@PL[0.5:0.95]'] == pytest.approx(
        100 * (5 + 5 * 51 / 101) / 10)


def test_polygon_and_uncompressed_rle_pseudo_masks():
    rows = [r[:4] + (seg,) for r, seg in zip(ROWS, [
        [[0, 0, 10, 0, 10, 10, 0, 10]],
        _uncompressed_rle(_mask((5, 15), (10, 20))),
        _uncompressed_rle(_mask((0, 4), (0, 4))), None])]
    res = pseudo_label_quality(_gt(), _pl(rows))
    ref = pseudo_label_quality(_gt(), _pl(ROWS))
    for key in MASK_KEYS:
        assert res[key] == pytest.approx(ref[key])
    bad = _pl(ROWS)
    bad['annotations'][0]['segmentation'] = _rle(np.ones((10, 20),
                                                         np.uint8))
    with pytest.raises(ValueError, match=r'mask size 10x20 is not that of '
                       r'image 1 \(20x20\)'):
        pseudo_label_quality(_gt(), bad)


def test_box_only_pseudo_labels_or_gt_give_no_mask_keys():
    box_rows = [r[:4] + (None,) for r in ROWS]
    box = pseudo_label_quality(_gt(), _pl(box_rows))
    masked = pseudo_label_quality(_gt(), _pl(ROWS))
    assert not MASK_KEYS & set(box)
    assert box == {k: v for k, v in masked.items() if k not in MASK_KEYS}
    assert list(box) == [k for k in masked if k not in MASK_KEYS]
    gt = _gt()
    for a in gt['annotations']:
        del a['segmentation']
    assert pseudo_label_quality(gt, _pl(ROWS)) == box
    # the ring pseudo label alone: image 1 has no ring gt, so it is not
    # evaluated by default (no mask keys) ...
    ring = _pl([ROWS[2]])
    assert not MASK_KEYS & set(pseudo_label_quality(_gt(), ring, ['ring']))
    # ... and on every image it has IoU 0 and is an FP
    res = pseudo_label_quality(_gt(), ring, ['ring'], images='all')
    assert res['num_images'] == 2 and res['num_pl_without_mask'] == 0
    assert res['mask mIoU@PL'] == 0.0 and res['mask IoU>=0.5@PL'] == 0.0
    assert res['mask AP@PL'] == 0.0
    gt = _gt()
    gt['annotations'].pop()                     # no ring ground truth
    res = pseudo_label_quality(gt, ring, ['ring'], images='all')
    assert math.isnan(res['mask AP@PL']) and math.isnan(res['AP@PL'])
    assert res['mask mIoU@PL'] == 0.0


def test_cli_prints_and_writes_mask_numbers(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location(
        'pseudo_label_quality_tool',
        osp.join(ROOT, 'tools', 'analysis', 'pseudo_label_quality.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    gt_path, pl_path = tmp_path / 'gt.json', tmp_path / 'pl.json'
    gt_path.write_text(json.dumps(_gt()))
    pl_path.write_text(json.dumps(_pl(ROWS)))
    out = tmp_path / 'q.json'
    assert tool.main([str(gt_path), str(pl_path), '--out', str(out)]) == 0
    printed = capsys.readouterr().out
    assert 'mask AP@PL 25.2' in printed and 'mask mIoU@PL 44.4' in printed
    assert '1 pseudo labels without a mask' in printed
    q = json.load(open(out))
    assert q['mask IoU>=0.5@PL'] == pytest.approx(100 / 3)
    assert q['num_pl_without_mask'] == 1


def test_pseudo_label_categories_are_matched_by_name():
    """A labeler's own categories (XPM: the caption vocabulary, another id
    order and words the ground truth lacks) score as the same names do."""
    own = [{'id': 1, 'name': 'donut-shop'}, {'id': 2, 'name': 'ring'},
           {'id': 3, 'name': 'star'}]
    to_own = {1: 3, 2: 2}                     # gt star -> 3, gt ring -> 2
    rows = [(i, to_own[c], b, s, seg) for i, c, b, s, seg in ROWS]
    rows.append((1, 1, [0, 0, 10, 10], 0.95, None))   # no gt category
    pl = _pl(rows)
    pl['categories'] = own
    res = pseudo_label_quality(_gt(), pl)
    ref = pseudo_label_quality(_gt(), _pl(ROWS))
    assert res['num_pl'] == ref['num_pl'] == 4
    for key in ('AP@PL', 'mask AP@PL', 'mask mIoU@PL', 'per_class_AP50'):
        assert res[key] == pytest.approx(ref[key]), key
