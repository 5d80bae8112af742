"""OVLVISMetric through mmengine's Evaluator with mmdet data samples."""
import json
import os.path as osp

import numpy as np
import pytest
import torch
from mmdet.registry import METRICS
from mmdet.structures import DetDataSample
from mmengine.evaluator import Evaluator
from mmengine.fileio import load
from mmengine.structures import InstanceData
from pycocotools import mask as mask_utils

import ovd_ext.evaluation  # noqa: F401  (registers the metrics)
from ovd_ext.evaluation import LVIS_AP_KEYS, LVIS_AR_KEYS, OVLVISMetric

FIGURES = LVIS_AP_KEYS + LVIS_AR_KEYS


def _samples(gt: dict, dets: list, empty: bool = False) -> list:
    """DetDataSamples as a detector's predict() returns them."""
    label_of = {c['id']: k for k, c in enumerate(gt['categories'])}
    by_img = {}
    for d in dets:
        by_img.setdefault(d['image_id'], []).append(d)
    samples = []
    for img in gt['images']:
        h, w = img['height'], img['width']
        ds = [] if empty else by_img.get(img['id'], [])
        boxes = np.array([d['bbox'] for d in ds], np.float32).reshape(-1, 4)
        boxes[:, 2:] += boxes[:, :2]
        masks = np.zeros((len(ds), h, w), bool)
        for i, d in enumerate(ds):
            masks[i] = mask_utils.decode(dict(
                size=d['segmentation']['size'],
                counts=d['segmentation']['counts'].encode()))
        pred = InstanceData(
            bboxes=torch.from_numpy(boxes),
            scores=torch.tensor([d['score'] for d in ds], dtype=torch.float32),
            labels=torch.tensor([label_of[d['category_id']] for d in ds],
                                dtype=torch.long),
            masks=torch.from_numpy(masks))
        sample = DetDataSample(metainfo=dict(
            img_id=img['id'], ori_shape=(h, w), img_shape=(h, w)))
        sample.pred_instances = pred
        samples.append(sample)
    return samples


def _run(metric_cfg: dict, gt: dict, samples: list) -> dict:
    evaluator = Evaluator(METRICS.build(metric_cfg))
    evaluator.dataset_meta = dict(
        classes=tuple(c['name'] for c in gt['categories']))
    for i in range(0, len(samples), 4):  # batches of 4, like a val loop
        evaluator.process(data_samples=samples[i:i + 4])
    return evaluator.evaluate(len(samples))


def test_registered_and_keys(lvis_data, tmp_path, lvis_reference):
    gt, gt_path, dets = lvis_data
    prefix = str(tmp_path / 'out')
    res = _run(dict(type='OVLVISMetric', ann_file=gt_path,
                    metric=['bbox', 'segm'], outfile_prefix=prefix,
                    classwise=True), gt, _samples(gt, dets))
    expected = {f'lvis/{m}_{k}' for m in ('bbox', 'segm')
                for k in FIGURES + ('AP_novel', 'AP_base')}
    assert set(res) == expected
    # same numbers as lvis-api on the json the metric wrote
    for m in ('bbox', 'segm'):
        dumped = load(f'{prefix}.{m}.json')
        assert len(dumped) == len(dets)
        ref = lvis_reference(gt_path, dumped, m)
        for k in FIGURES:
            assert res[f'lvis/{m}_{k}'] == pytest.approx(ref[k], abs=1e-12), \
                (m, k)
        assert res[f'lvis/{m}_AP_novel'] == res[f'lvis/{m}_APr']
    assert 0.05 < res['lvis/segm_AP'] < 0.95
    assert res['lvis/bbox_AP'] != res['lvis/segm_AP']


def test_empty_predictions(lvis_data, lvis_reference):
    gt, gt_path, _ = lvis_data
    res = _run(dict(type='OVLVISMetric', ann_file=gt_path,
                    metric=['bbox', 'segm']), gt, _samples(gt, [], True))
    img = gt['images'][0]
    present = {a['category_id'] for a in gt['annotations']
               if a['image_id'] == img['id']}
    dropped = next(c['id'] for c in gt['categories'] if c['id'] not in
                   present and c['id'] not in img['neg_category_ids'])
    dummy = [dict(image_id=img['id'], category_id=dropped, score=0.5,
                  bbox=[1.0, 1.0, 5.0, 5.0])]
    ref = lvis_reference(gt_path, dummy, 'bbox')
    for m in ('bbox', 'segm'):
        for k in FIGURES:
            assert res[f'lvis/{m}_{k}'] == pytest.approx(ref[k], abs=1e-12)
        assert res[f'lvis/{m}_AP'] == 0.0


def test_novel_classes_and_metric_items(lvis_data, lvis_reference,
                                       tmp_path):
    gt, gt_path, dets = lvis_data
    common = [c['name'] for c in gt['categories']
              if c['frequency'] == 'c'][:2]
    prefix = str(tmp_path / 'out')
    res = _run(dict(type='OVLVISMetric', ann_file=gt_path,
                    novel_classes=common, outfile_prefix=prefix,
                    metric_items=['AP', 'AP_novel', 'AP_base']), gt,
               _samples(gt, dets))
    assert set(res) == {'lvis/bbox_AP', 'lvis/bbox_AP_novel',
                        'lvis/bbox_AP_base'}
    ev = lvis_reference(gt_path, load(prefix + '.bbox.json'), 'bbox')['_eval']
    ids = {int(n.split('_')[1]) for n in common}
    for key, inside in (('AP_novel', True), ('AP_base', False)):
        idx = [k for k, c in enumerate(ev.params.cat_ids)
               if (c in ids) == inside]
        p = ev.eval['precision'][:, :, idx, 0]
        assert res[f'lvis/bbox_{key}'] == pytest.approx(
            p[p > -1].mean(), abs=1e-12), key


def test_format_only_writes_jsons(lvis_data, tmp_path):
    """Test-dev style: the ann file has images and categories only."""
    gt, _, dets = lvis_data
    info = tmp_path / 'image_info_test.json'
    info.write_text(json.dumps(dict(
        images=[dict(id=i['id'], width=i['width'], height=i['height'])
                for i in gt['images']],
        categories=gt['categories'])))
    prefix = str(tmp_path / 'sub')
    res = _run(dict(type='OVLVISMetric', ann_file=str(info),
                    format_only=True, outfile_prefix=prefix, metric='segm'),
               gt, _samples(gt, dets[:50]))
    assert res == {}
    written = load(prefix + '.segm.json')
    assert len(written) == 50 and osp.isfile(prefix + '.bbox.json')
    assert [d['category_id'] for d in written] == [
        d['category_id'] for d in dets[:50]]


def test_bad_label_and_config(lvis_data):
    gt, gt_path, dets = lvis_data
    samples = _samples(gt, dets[:30])
    samples[0].pred_instances.labels[:] = len(gt['categories']) + 3
    with pytest.raises(ValueError, match=r'image id .*label 15'):
        _run(dict(type='OVLVISMetric', ann_file=gt_path), gt, samples)
    with pytest.raises(KeyError):
        OVLVISMetric(ann_file=gt_path, metric='proposal')
    with pytest.raises(ValueError, match=r'nope.*lvis_v1_val_synth'):
        OVLVISMetric(ann_file=gt_path, novel_classes=['nope'])


def test_labels_follow_lvisv1dataset(lvis_data):
    """The metric maps label k to the category mmdet's dataset calls k."""
    from mmdet.datasets import LVISV1Dataset
    gt, gt_path, _ = lvis_data
    classes = tuple(c['name'] for c in gt['categories'])
    dataset = LVISV1Dataset(ann_file=gt_path, data_prefix=dict(img=''),
                            metainfo=dict(classes=classes), pipeline=[],
                            filter_cfg=None)
    metric = OVLVISMetric(ann_file=gt_path)
    assert dataset.cat_ids == metric.cat_ids
    assert sorted(metric.cat_ids) != metric.cat_ids  # json order matters
    assert len(dataset) == len(gt['images'])
