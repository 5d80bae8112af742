"""OVDCocoMetric: base / novel / all AP50 equal pycocotools' COCOeval."""
import contextlib
import copy
import io
import json

import numpy as np
import pytest
import torch
from mmdet.registry import METRICS
from mmdet.structures import DetDataSample
from mmengine.evaluator import Evaluator
from mmengine.fileio import load
from mmengine.structures import InstanceData
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

import ovd_ext.evaluation  # noqa: F401  (registers the metrics)
from ovd_ext.testing.synthetic_lvis import make_lvis_dets, make_lvis_gt

BASE = ['cat_3', 'cat_8', 'cat_13', 'cat_15']  # names follow from seed 21
NOVEL = ['cat_10', 'cat_23']  # cat_6, cat_16: in neither split


@pytest.fixture(scope='module')
def coco_data(tmp_path_factory):
    """A COCO json (8 categories, some crowd boxes) and detections."""
    gt = make_lvis_gt(num_images=30, num_categories=8, seed=21)
    dets = make_lvis_dets(gt, seed=22, with_masks=True)
    for img in gt['images']:  # plain COCO: no federated fields
        img.pop('neg_category_ids')
        img.pop('not_exhaustive_category_ids')
        img['file_name'] = f'{img["id"]}.jpg'
    for k, ann in enumerate(gt['annotations']):
        ann['iscrowd'] = int(k % 17 == 0)
    path = tmp_path_factory.mktemp('coco') / 'ovd_coco_val.json'
    path.write_text(json.dumps(gt))
    return gt, str(path), dets


def _samples(gt: dict, dets: list, classes: list) -> list:
    label_of = {n: k for k, n in enumerate(classes)}
    name_of = {c['id']: c['name'] for c in gt['categories']}
    samples = []
    for img in gt['images']:
        ds = [d for d in dets if d['image_id'] == img['id']]
        boxes = np.array([d['bbox'] for d in ds], np.float32).reshape(-1, 4)
        boxes[:, 2:] += boxes[:, :2]
        sample = DetDataSample(metainfo=dict(
            img_id=img['id'], ori_shape=(img['height'], img['width'])))
        masks = np.zeros((len(ds), img['height'], img['width']), bool)
        for i, d in enumerate(ds):
            rle = dict(d['segmentation'])
            masks[i] = mask_utils.decode(
                dict(rle, counts=rle['counts'].encode()))
        sample.pred_instances = InstanceData(
            bboxes=torch.from_numpy(boxes),
            scores=torch.tensor([d['score'] for d in ds]),
            labels=torch.tensor(
                [label_of[name_of[d['category_id']]] for d in ds],
                dtype=torch.long),
            masks=torch.from_numpy(masks))
        samples.append(sample)
    return samples


def _pycoco(gt_path: str, dets: list, cat_ids: list,
            iou_type: str) -> np.ndarray:
    """pycocotools stats restricted to ``cat_ids``."""
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(gt_path)
        ev = COCOeval(gt, gt.loadRes(copy.deepcopy(dets)), iou_type)
        ev.params.catIds = cat_ids
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev.stats


def test_split_ap50_matches_pycocotools(coco_data, tmp_path):
    gt, gt_path, dets = coco_data
    names = {c['name']: c['id'] for c in gt['categories']}
    assert set(BASE + NOVEL) < set(names)  # the seed gives these names
    # dataset classes in reverse json order: labels are mapped by name
    classes = [c['name'] for c in gt['categories']][::-1]
    prefix = str(tmp_path / 'r')
    evaluator = Evaluator(METRICS.build(dict(
        type='OVDCocoMetric', ann_file=gt_path, base_classes=BASE,
        novel_classes=NOVEL, outfile_prefix=prefix,
        metric=['bbox', 'segm'])))
    evaluator.dataset_meta = dict(classes=classes)
    samples = _samples(gt, dets, classes)
    evaluator.process(data_samples=samples)
    res = evaluator.evaluate(len(samples))
    assert set(res) == {f'coco/{m}_{a}_{s}' for m in ('bbox', 'segm')
                        for a in ('AP50', 'AP')
                        for s in ('base', 'novel', 'all')}
    for m in ('bbox', 'segm'):
        dumped = load(f'{prefix}.{m}.json')
        for split, cls in (('base', BASE), ('novel', NOVEL),
                           ('all', BASE + NOVEL)):
            ref = _pycoco(gt_path, dumped, [names[n] for n in cls], m)
            assert res[f'coco/{m}_AP50_{split}'] == pytest.approx(
                ref[1], abs=1e-6), (m, split)
            assert res[f'coco/{m}_AP_{split}'] == pytest.approx(
                ref[0], abs=1e-6), (m, split)
        assert 0.05 < res[f'coco/{m}_AP50_novel'] < 0.95
        assert res[f'coco/{m}_AP50_base'] != res[f'coco/{m}_AP50_novel']


def test_split_from_dataset_meta_and_no_ann_file(coco_data):
    """GT converted from data samples; split read from dataset_meta."""
    gt, _, dets = coco_data
    classes = [c['name'] for c in gt['categories']]
    samples = _samples(gt, dets, classes)
    for s, img in zip(samples, gt['images']):
        s.gt_instances = InstanceData()
        s.set_metainfo(dict(instances=[
            dict(bbox=[a['bbox'][0], a['bbox'][1], a['bbox'][0] + a['bbox'][2],
                       a['bbox'][1] + a['bbox'][3]],
                 bbox_label=classes.index(
                     f'cat_{a["category_id"]}'), ignore_flag=0)
            for a in gt['annotations'] if a['image_id'] == img['id']]))
    evaluator = Evaluator(METRICS.build(dict(type='OVDCocoMetric')))
    evaluator.dataset_meta = dict(classes=classes, base_classes=BASE,
                                  novel_classes=NOVEL)
    evaluator.process(data_samples=samples)
    res = evaluator.evaluate(len(samples))
    assert 0.0 < res['coco/bbox_AP50_all'] <= 1.0


def test_errors_name_the_class(coco_data):
    gt, gt_path, dets = coco_data
    classes = [c['name'] for c in gt['categories']]
    metric = METRICS.build(dict(type='OVDCocoMetric', ann_file=gt_path,
                                base_classes=BASE, novel_classes=['zebra']))
    evaluator = Evaluator(metric)
    evaluator.dataset_meta = dict(classes=classes)
    evaluator.process(data_samples=_samples(gt, dets, classes))
    with pytest.raises(ValueError, match=r"zebra.*ovd_coco_val\.json"):
        evaluator.evaluate(len(gt['images']))
    metric = METRICS.build(dict(type='OVDCocoMetric', ann_file=gt_path,
                                base_classes=BASE, novel_classes=BASE[:1]))
    evaluator = Evaluator(metric)
    evaluator.dataset_meta = dict(classes=classes)
    evaluator.process(data_samples=_samples(gt, dets, classes))
    with pytest.raises(ValueError, match='both base and novel'):
        evaluator.evaluate(len(gt['images']))


def test_empty_predictions(coco_data):
    gt, gt_path, _ = coco_data
    classes = [c['name'] for c in gt['categories']]
    evaluator = Evaluator(METRICS.build(dict(
        type='OVDCocoMetric', ann_file=gt_path, base_classes=BASE,
        novel_classes=NOVEL)))
    evaluator.dataset_meta = dict(classes=classes)
    evaluator.process(data_samples=_samples(gt, [], classes))
    res = evaluator.evaluate(len(gt['images']))
    assert all(v == 0.0 for v in res.values()), res
