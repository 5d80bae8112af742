"""Closed-vocabulary COCO AP columns (SSOD, VL-PLM Table 3): metric keys to
titles, the table header, and the metafile's Semi-Supervised result."""
import pytest
import yaml

from ovd_ext.apis.publish import TASK_NAMES, update_metafile
from ovd_ext.apis.results_table import (COLUMNS, metrics_to_columns,
                                        results_table)


def test_coco_ap_keys_become_percent_columns():
    cols = metrics_to_columns({'coco/bbox_mAP': 0.253,
                               'coco/bbox_mAP_50': 0.4417,
                               'coco/bbox_mAP_75': 0.2,      # no column
                               'coco/bbox_AP50_novel': 0.1})
    assert set(cols) == {'COCO AP', 'COCO AP50', 'AP50 novel'}
    assert cols['COCO AP'] == pytest.approx(25.3)
    assert cols['COCO AP50'] == pytest.approx(44.17)
    assert cols['AP50 novel'] == pytest.approx(10.0)
    # undefined stays -1, not -100
    assert metrics_to_columns({'coco/bbox_mAP': -1.0}) == {'COCO AP': -1.0}


def test_coco_columns_close_the_table():
    titles = [t for t, _ in COLUMNS]
    assert titles[-2:] == ['COCO AP', 'COCO AP50']
    table = results_table({'SSOD STAC': {'COCO AP': 25.26, 'COCO AP50': 44.0,
                                         'AP@PL': 61.23}}, extra=['AP@PL'])
    header, _, row = table.strip().split('\n')
    cell = dict(zip([c.strip() for c in header.strip('|').split('|')],
                    [c.strip() for c in row.strip('|').split('|')]))
    assert cell['COCO AP'] == '25.3' and cell['COCO AP50'] == '44.0'
    assert cell['AP50 novel'] == '-' and cell['AP@PL'] == '61.2'


def _metafile(tmp_path):
    mf = tmp_path / 'metafile.yml'
    mf.write_text(yaml.safe_dump({'Models': [
        {'Name': 'ovd', 'Config': 'o.py', 'Results': [
            {'Task': 'Open-Vocabulary Object Detection',
             'Dataset': 'OVD-Shapes', 'Metrics': {'AP50 novel': 12.0}}]},
        {'Name': 'ssod', 'Config': 's.py', 'Results': [
            {'Task': 'Open-Vocabulary Object Detection',
             'Dataset': 'OVD-Shapes', 'Metrics': {}},
            {'Task': 'Semi-Supervised Object Detection',
             'Dataset': 'OVD-Shapes (10 % labeled)', 'Metrics': {}}]}]}))
    return mf


def test_update_metafile_fills_the_semi_supervised_result(tmp_path):
    assert 'Semi-Supervised Object Detection' in TASK_NAMES
    mf = _metafile(tmp_path)
    metrics = metrics_to_columns({'coco/bbox_mAP': 0.253,
                                  'coco/bbox_mAP_50': 0.4417})
    update_metafile(str(mf), 'ssod', 'checkpoints/vl_plm/ssod.pth', metrics,
                    {'Iterations': 1100})
    with open(mf) as f:
        models = {m['Name']: m for m in yaml.safe_load(f)['Models']}
    ssod = models['ssod']
    tasks = {r['Task']: r for r in ssod['Results']}
    assert tasks['Semi-Supervised Object Detection'] == {
        'Task': 'Semi-Supervised Object Detection',
        'Dataset': 'OVD-Shapes (10 % labeled)',
        'Metrics': {'COCO AP': 25.3, 'COCO AP50': 44.2}}
    assert tasks['Open-Vocabulary Object Detection']['Metrics'] == {}
    assert len(ssod['Results']) == 2
    assert ssod['Weights'] == 'checkpoints/vl_plm/ssod.pth'
    assert ssod['Metadata'] == {'Iterations': 1100}
    # the other model is untouched
    assert models['ovd']['Results'][0]['Metrics'] == {'AP50 novel': 12.0}
    assert 'Weights' not in models['ovd']


def test_update_metafile_adds_the_semi_supervised_result_when_missing(
        tmp_path):
    mf = _metafile(tmp_path)
    update_metafile(str(mf), 'ovd', 'w.pth',
                    {'COCO AP': 30.04, 'AP50 novel': 13.36})
    with open(mf) as f:
        ovd = yaml.safe_load(f)['Models'][0]
    tasks = {r['Task']: r['Metrics'] for r in ovd['Results']}
    assert tasks == {
        'Open-Vocabulary Object Detection': {'AP50 novel': 13.4},
        'Semi-Supervised Object Detection': {'COCO AP': 30.0}}
