"""AP@PL and #@PL (VL-PLM Table 4) on hand-made labels."""
import json
import math

import cv2
import numpy as np
import pytest

from ovd_ext.pseudo_labels import draw_pseudo_labels, pseudo_label_quality

CATS = [{'id': 1, 'name': 'star'}, {'id': 2, 'name': 'circle'}]


def _gt():
    anns = [
        {'id': 1, 'image_id': 1, 'category_id': 1, 'bbox': [10, 10, 20, 20]},
        {'id': 2, 'image_id': 2, 'category_id': 1, 'bbox': [30, 30, 10, 10]},
        {'id': 3, 'image_id': 3, 'category_id': 2, 'bbox': [0, 0, 10, 10]}]
    for a in anns:
        a.update(area=a['bbox'][2] * a['bbox'][3], iscrowd=0)
    return {'images': [{'id': i, 'file_name': f'{i}.png', 'width': 64,
                        'height': 64} for i in (1, 2, 3)],
            'categories': CATS, 'annotations': anns}


def _pl(rows):
    return {'images': _gt()['images'], 'categories': CATS,
            'annotations': [{'id': k + 1, 'image_id': i, 'category_id': c,
                             'bbox': b, 'score': s, 'pseudo': True}
                            for k, (i, c, b, s) in enumerate(rows)]}


def test_ap50_and_count_by_hand():
    pl = _pl([(1, 1, [10, 10, 20, 20], 0.9),    # TP
              (2, 1, [0, 0, 10, 10], 0.8),      # FP (misses the gt)
              (3, 1, [0, 0, 10, 10], 0.95),     # image 3: no star gt
              (3, 2, [0, 0, 10, 10], 0.99)])    # not a target class
    res = pseudo_label_quality(_gt(), pl, targets=['star'])
    # ranked: TP (p=1, r=.5), FP -> precision 1 up to recall .5, 0 after:
    # 101-point interpolated AP = 51 / 101
    assert res['AP@PL'] == pytest.approx(100 * 51 / 101)
    assert res['num_images'] == 2 and res['num_pl'] == 2
    assert res['#@PL'] == 1.0 and res['num_gt'] == 2
    # every image: the star PL on image 3 is a high-scoring FP
    res = pseudo_label_quality(_gt(), pl, targets=['star'], images='all')
    assert res['num_images'] == 3 and res['#@PL'] == 1.0
    # ranked FP(.95), TP(.9), FP(.8): precision .5 at recall .5
    assert res['AP@PL'] == pytest.approx(100 * 0.5 * 51 / 101)


def test_perfect_and_empty_pseudo_labels(tmp_path):
    perfect = _pl([(1, 1, [10, 10, 20, 20], 0.9), (2, 1, [30, 30, 10, 10],
                                                    0.85)])
    gt_path = tmp_path / 'gt.json'
    gt_path.write_text(json.dumps(_gt()))
    res = pseudo_label_quality(str(gt_path), perfect, ['star'])
    assert res['AP@PL'] == pytest.approx(100.0)
    assert res['per_class_AP50']['star'] == pytest.approx(100.0)
    res = pseudo_label_quality(_gt(), _pl([]), ['star'])
    assert res['AP@PL'] == 0.0 and res['#@PL'] == 0.0
    res = pseudo_label_quality(_gt(), perfect, ['circle'])
    assert res['#@PL'] == 0.0 and res['num_images'] == 1
    with pytest.raises(ValueError, match='not a category'):
        pseudo_label_quality(_gt(), perfect, ['cow'])


def test_draw_writes_pngs(tmp_path):
    for i in (1, 2, 3):
        cv2.imwrite(str(tmp_path / f'{i}.png'),
                    np.zeros((64, 64, 3), np.uint8))
    pl = _pl([(1, 1, [10, 10, 20, 20], 0.9), (3, 2, [0, 0, 10, 10], 0.99)])
    paths = draw_pseudo_labels(pl, str(tmp_path), str(tmp_path / 'vis'), 5,
                               gt_json=_gt())
    assert [p.rsplit('/', 1)[1] for p in paths] == ['1.png', '3.png']
    img = cv2.imread(paths[0])
    assert img.shape == (512, 512, 3)                 # upscaled small image
    assert (img[..., 2] > 200).any()                  # red PL box drawn
    assert math.isclose(len(draw_pseudo_labels(
        pl, str(tmp_path), str(tmp_path / 'v2'), 1)), 1)


def _pycocotools_ap(gt, dets, img_ids, cat_ids):
    """AP50 / AP with pycocotools' COCOeval (the engine quality.py used
    before it moved to faster-coco-eval)."""
    import contextlib
    import io

    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO()
        coco_gt.dataset = gt
        coco_gt.createIndex()
        ev = COCOeval(coco_gt, coco_gt.loadRes(dets), 'bbox')
        ev.params.imgIds, ev.params.catIds = img_ids, cat_ids
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return 100 * ev.stats[1], 100 * ev.stats[0]


def test_faster_coco_eval_gives_pycocotools_numbers():
    """AP@PL on 40 images of jittered, partly wrong pseudo labels: the same
    as pycocotools' COCOeval to 12 decimals."""
    rng = np.random.default_rng(0)
    cats = [{'id': i + 1, 'name': f'c{i}'} for i in range(4)]
    images, gt_anns, pls = [], [], []
    for img_id in range(1, 41):
        images.append({'id': img_id, 'width': 200, 'height': 150})
        for _ in range(rng.integers(0, 5)):
            x, y = rng.uniform(0, 120), rng.uniform(0, 90)
            w, h = rng.uniform(8, 60), rng.uniform(8, 50)
            cat = int(rng.integers(1, 5))
            gt_anns.append({'id': len(gt_anns) + 1, 'image_id': img_id,
                            'category_id': cat, 'bbox': [x, y, w, h],
                            'area': w * h, 'iscrowd': 0})
            if rng.uniform() < 0.8:                  # found, jittered
                j = rng.normal(0, 4, 4)
                pls.append((img_id, cat if rng.uniform() < 0.85 else
                            int(rng.integers(1, 5)),
                            [x + j[0], y + j[1], max(w + j[2], 2),
                             max(h + j[3], 2)], float(rng.uniform(.3, 1))))
        for _ in range(rng.integers(0, 3)):          # false positives
            pls.append((img_id, int(rng.integers(1, 5)),
                        [float(v) for v in rng.uniform(0, 100, 2)]
                        + [20.0, 20.0], float(rng.uniform(.3, 1))))
    gt = {'images': images, 'categories': cats, 'annotations': gt_anns}
    pl = {'images': images, 'categories': cats,
          'annotations': [{'id': k + 1, 'image_id': i, 'category_id': c,
                           'bbox': b, 'score': s}
                          for k, (i, c, b, s) in enumerate(pls)]}
    targets = ['c0', 'c2', 'c3']
    res = pseudo_label_quality(gt, pl, targets)
    cat_ids = [1, 3, 4]
    img_ids = sorted({a['image_id'] for a in gt_anns
                      if a['category_id'] in cat_ids})
    dets = [dict(image_id=a['image_id'], category_id=a['category_id'],
                 bbox=a['bbox'], score=a['score'])
            for a in pl['annotations'] if a['category_id'] in cat_ids
            and a['image_id'] in set(img_ids)]
    gt_sub = dict(gt, images=[im for im in images if im['id'] in img_ids],
                  annotations=[a for a in gt_anns if a['category_id'] in
                               cat_ids and a['image_id'] in set(img_ids)])
    ap50, ap = _pycocotools_ap(gt_sub, dets, img_ids, cat_ids)
    assert 10 < res['AP@PL'] < 95                  # a non-trivial AP
    assert res['AP@PL'] == pytest.approx(ap50, abs=1e-12)
    assert res['AP@PL[0.5:0.95]'] == pytest.approx(ap, abs=1e-12)


def test_malformed_and_nonfinite_pseudo_labels(tmp_path):
    pl = _pl([(1, 1, [10, 10, 20, 20], 0.9), (2, 1, [0, 0, 10, 10], 0.8)])
    pl['annotations'].append({'id': 9, 'image_id': 2, 'category_id': 1,
                              'bbox': [30, 30, 10, 10],
                              'score': float('nan')})   # would be a TP
    pl['annotations'].append({'id': 10, 'image_id': 2, 'category_id': 1,
                              'bbox': [30, 30, 0, 10], 'score': 0.99})
    res = pseudo_label_quality(_gt(), pl, targets=['star'])
    assert res['dropped'] == {'nonfinite_score': 1, 'degenerate_bbox': 1}
    assert res['num_pl'] == 2
    assert res['AP@PL'] == pytest.approx(100 * 51 / 101)
    path = tmp_path / 'pl.json'
    pl['annotations'][1]['bbox'] = [0, 0, 10]
    path.write_text(json.dumps(pl))
    with pytest.raises(ValueError, match=r"pl.json: record #1 field 'bbox'"):
        pseudo_label_quality(_gt(), str(path), ['star'])
    path.write_text(json.dumps(pl)[:-20])
    with pytest.raises(ValueError, match='pl.json: not valid json'):
        pseudo_label_quality(_gt(), str(path), ['star'])
