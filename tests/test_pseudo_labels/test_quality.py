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
