"""GT-box region classification accuracy (RegionCLIP Table 4)."""
import json

import numpy as np
import pytest
import torch

from ovd_ext.evaluation.region_classification import (
    RegionClassificationMetric, top1_per_box)

CLASSES = ('square', 'circle', 'star')


def _sample(gt, gt_index, labels, scores):
    return {'img_path': 'x.png',
            'gt_instances': {'labels': torch.tensor(gt)},
            'pred_instances': {'gt_index': torch.tensor(gt_index),
                               'labels': torch.tensor(labels),
                               'scores': torch.tensor(scores)}}


def test_top1_takes_the_best_prediction_of_each_box():
    top1 = top1_per_box(3, np.array([0, 0, 1, 0]), np.array([2, 1, 0, 0]),
                        np.array([0.2, 0.7, 0.9, 0.1]))
    assert top1.tolist() == [1, 0, -1]   # box 2 has no prediction


def test_accuracy_all_base_novel_in_unit_interval():
    metric = RegionClassificationMetric(novel_classes=['star'])
    metric.dataset_meta = {'classes': CLASSES}
    # image 1: square right, star wrong (called circle); image 2: star right,
    # circle right, circle wrong
    metric.process({}, [
        _sample([0, 2], [0, 0, 1, 1], [0, 2, 1, 2], [0.9, 0.1, 0.6, 0.4]),
        _sample([2, 1, 1], [0, 1, 2], [2, 1, 0], [0.5, 0.5, 0.5])])
    out = metric.compute_metrics(metric.results)
    assert out == pytest.approx({'acc': 3 / 5, 'acc_base': 2 / 3,
                                 'acc_novel': 1 / 2})


def test_empty_split_is_minus_one_and_lvis_rare_are_novel(tmp_path):
    lvis = tmp_path / 'lvis.json'
    lvis.write_text(json.dumps({'categories': [
        {'id': 1, 'name': 'square', 'frequency': 'f'},
        {'id': 2, 'name': 'circle', 'frequency': 'c'},
        {'id': 3, 'name': 'star', 'frequency': 'r'}]}))
    metric = RegionClassificationMetric(novel_classes=str(lvis))
    assert metric.novel_classes == ('star',)
    metric.dataset_meta = {'classes': CLASSES}
    metric.process({}, [_sample([0], [0], [0], [1.0])])
    assert metric.compute_metrics(metric.results) == {
        'acc': 1.0, 'acc_base': 1.0, 'acc_novel': -1.0}


def test_predictions_without_gt_index_name_the_image():
    metric = RegionClassificationMetric()
    sample = _sample([0], [0], [0], [1.0])
    del sample['pred_instances']['gt_index']
    with pytest.raises(KeyError, match='x.png'):
        metric.process({}, [sample])
