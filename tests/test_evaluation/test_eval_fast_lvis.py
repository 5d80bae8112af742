"""evaluate_lvis (faster-coco-eval) against lvis-api's LVISEval."""
import copy
import json

import numpy as np
import pytest

from ovd_ext.evaluation import (LVIS_AP_KEYS, LVIS_AR_KEYS, build_lvis_gt,
                                evaluate_lvis, limit_dets_per_image)
from ovd_ext.evaluation.fast_lvis_eval import plan_chunks
from ovd_ext.testing.synthetic_lvis import make_lvis_dets, make_lvis_gt

FIGURES = LVIS_AP_KEYS + LVIS_AR_KEYS


def _assert_same(ours: dict, ref: dict) -> None:
    """Every figure equal to lvis-api's up to float summation order."""
    for key in FIGURES:
        assert abs(ours[key] - ref[key]) < 1e-12, (key, ours[key], ref[key])


@pytest.mark.parametrize('iou_type', ['bbox', 'segm'])
@pytest.mark.parametrize('chunk_budget', [10**9, 40])
def test_matches_lvis_api(lvis_data, lvis_reference, iou_type, chunk_budget):
    """One faster-coco-eval run over the whole grid, or many small blocks."""
    gt_dict, gt_path, dets = lvis_data
    ref = lvis_reference(gt_path, dets, iou_type)
    res = evaluate_lvis(build_lvis_gt(gt_dict), dets, iou_type,
                        chunk_budget=chunk_budget)
    _assert_same(res.stats, ref)
    # the data is not degenerate: every group has GT and AP is mid-range
    for key in ('AP', 'APr', 'APc', 'APf', 'APs', 'APm', 'APl'):
        assert 0.02 < res.stats[key] < 0.98, (key, res.stats[key])


def test_inputs_not_modified(lvis_data):
    gt_dict, _, dets = lvis_data
    gt_before, dets_before = copy.deepcopy(gt_dict), copy.deepcopy(dets)
    evaluate_lvis(build_lvis_gt(gt_dict), dets, 'segm')
    assert gt_dict == gt_before and dets == dets_before


def test_ties_and_subset_of_images(lvis_reference, tmp_path):
    """Rounded scores (ties inside an image and at the 300 cut) and a
    restricted image list still give lvis-api's numbers."""
    gt = make_lvis_gt(num_images=25, num_categories=9, seed=11)
    dets = make_lvis_dets(gt, seed=12, overflow_images=3, score_decimals=1)
    path = tmp_path / 'gt.json'
    path.write_text(json.dumps(gt))
    img_ids = [img['id'] for img in gt['images']][::2]
    ref = lvis_reference(str(path), dets, 'bbox', img_ids)
    for budget in (10**9, 30):
        res = evaluate_lvis(build_lvis_gt(gt), dets, 'bbox', img_ids=img_ids,
                            chunk_budget=budget)
        _assert_same(res.stats, ref)


def test_iscrowd_plays_no_part(lvis_data, lvis_reference, tmp_path):
    """lvis-api ignores ``iscrowd`` (COCO would ignore crowd GT and use
    crowd IoU); a json that carries it must still give lvis-api's numbers."""
    gt_dict, _, dets = lvis_data
    gt = copy.deepcopy(gt_dict)
    for k, ann in enumerate(gt['annotations']):
        ann['iscrowd'] = int(k % 5 == 0)
    path = tmp_path / 'crowd.json'
    path.write_text(json.dumps(gt))
    ref = lvis_reference(str(path), dets, 'bbox')
    _assert_same(evaluate_lvis(build_lvis_gt(gt), dets, 'bbox').stats, ref)


def test_segm_results_without_boxes(lvis_data, lvis_reference):
    """Mask-only results: area and box come from the mask (LVISResults)."""
    gt_dict, gt_path, dets = lvis_data
    masks_only = [{k: v for k, v in d.items() if k != 'bbox'} for d in dets]
    ref = lvis_reference(gt_path, masks_only, 'segm')
    _assert_same(evaluate_lvis(build_lvis_gt(gt_dict), masks_only,
                               'segm').stats, ref)
    with_box = evaluate_lvis(build_lvis_gt(gt_dict), dets, 'segm').stats
    assert with_box['APs'] != ref['APs']  # box area vs mask area differ


def test_limit_dets_per_image_matches_lvis_results(lvis_api):
    rng = np.random.default_rng(0)
    img = rng.integers(0, 4, 40)
    score = np.round(rng.random(40), 1)  # many ties
    keep = limit_dets_per_image(img, score, 5)
    anns = [dict(image_id=int(i), score=float(s), k=k)
            for k, (i, s) in enumerate(zip(img, score))]
    ref = lvis_api.LVISResults.limit_dets_per_image(None, anns, 5)
    assert keep.tolist() == [a['k'] for a in ref]
    assert len(keep) == 20


def test_empty_results_give_zero_or_minus_one(lvis_data, lvis_reference):
    gt_dict, gt_path, _ = lvis_data
    # lvis-api cannot take an empty list; one detection the federated
    # filter drops (a category neither annotated nor negative) is the same
    img = gt_dict['images'][0]
    present = {a['category_id'] for a in gt_dict['annotations']
               if a['image_id'] == img['id']}
    dropped = next(c['id'] for c in gt_dict['categories']
                   if c['id'] not in present
                   and c['id'] not in img['neg_category_ids'])
    dummy = [dict(image_id=img['id'], category_id=dropped, score=0.5,
                  bbox=[1.0, 1.0, 5.0, 5.0])]
    ref = lvis_reference(gt_path, dummy, 'bbox')
    gt = build_lvis_gt(gt_dict)
    for dets in ([], dummy):
        res = evaluate_lvis(gt, dets, 'bbox')
        _assert_same(res.stats, ref)
        assert res.num_dets == 0
        assert res.stats['AP'] == 0.0 and res.stats['AR@300'] == 0.0


def test_group_without_gt_is_minus_one(lvis_reference, tmp_path):
    gt = make_lvis_gt(num_images=10, num_categories=6, seed=5)
    rare = {c['id'] for c in gt['categories'] if c['frequency'] == 'r'}
    gt['annotations'] = [a for a in gt['annotations']
                         if a['category_id'] not in rare]
    for img in gt['images']:
        img['not_exhaustive_category_ids'] = [
            c for c in img['not_exhaustive_category_ids'] if c not in rare]
    dets = make_lvis_dets(gt, seed=6)
    path = tmp_path / 'gt.json'
    path.write_text(json.dumps(gt))
    ref = lvis_reference(str(path), dets, 'bbox')
    res = evaluate_lvis(build_lvis_gt(gt), dets, 'bbox')
    _assert_same(res.stats, ref)
    assert res.stats['APr'] == -1.0


def test_novel_split(lvis_data):
    gt_dict, _, dets = lvis_data
    gt = build_lvis_gt(gt_dict)
    rare = [c for c in gt.cat_ids if gt.frequency[c] == 'r']
    res = evaluate_lvis(gt, dets, 'bbox', novel_cat_ids=rare)
    assert res.stats['AP_novel'] == res.stats['APr']
    cat_ids = res.cat_ids
    base = [k for k, c in enumerate(cat_ids) if c not in rare]
    p = res.precision[:, :, base, 0]
    assert res.stats['AP_base'] == pytest.approx(p[p > -1].mean(), abs=1e-12)


def test_bad_inputs_name_file_and_item(lvis_data):
    gt_dict, _, dets = lvis_data
    gt = build_lvis_gt(gt_dict, where='val.json')
    bad_cat = dict(dets[0], category_id=99999)
    with pytest.raises(ValueError, match=r'dets.json.*category id 99999.*'
                       r'val\.json'):
        evaluate_lvis(gt, [bad_cat], 'bbox', where='dets.json')
    bad_img = dict(dets[0], image_id=-7)
    with pytest.raises(ValueError, match=r'image id -7'):
        evaluate_lvis(gt, [bad_img], 'bbox', where='dets.json')
    broken = copy.deepcopy(gt_dict)
    broken['categories'][0]['frequency'] = 'x'
    with pytest.raises(ValueError, match=r'val\.json: category id'):
        build_lvis_gt(broken, where='val.json')
    broken = copy.deepcopy(gt_dict)
    del broken['images'][1]['neg_category_ids']
    img_id = broken['images'][1]['id']
    with pytest.raises(ValueError, match=f'image id {img_id}'):
        build_lvis_gt(broken, where='val.json')


def test_plan_chunks_covers_every_category_once():
    active = {c: set(range(c % 7, c % 7 + c)) for c in range(1, 30)}
    blocks = plan_chunks(active, budget=60)
    cats = [c for block_cats, _ in blocks for c in block_cats]
    assert sorted(cats) == list(range(1, 30))
    assert len(blocks) > 5
    for block_cats, imgs in blocks:
        assert imgs == sorted(set().union(*(active[c] for c in block_cats)))
        # over budget only when a single category is bigger than it
        assert len(imgs) * len(block_cats) <= 60 or len(block_cats) == 1
