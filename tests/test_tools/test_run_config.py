import os.path as osp
import subprocess
import sys

import pytest
from mmengine.config import Config

from ovd_ext.utils import check_data_paths, missing_data_paths

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
COCO_CFG = osp.join(ROOT, 'configs', 'ov_baselines',
                    'faster-rcnn_r50_fpn_clip-head_1x_ov-coco.py')


def test_missing_paths_listed_through_wrappers(tmp_path):
    (tmp_path / 'ann.json').write_text('{}')
    cfg = Config(dict(train_dataloader=dict(dataset=dict(
        type='ClassBalancedDataset', dataset=dict(
            data_root=str(tmp_path), ann_file='ann.json',
            data_prefix=dict(img='images/'))))))
    missing = missing_data_paths(cfg)
    assert missing == [('train_dataloader', osp.join(str(tmp_path), 'images/'))]
    with pytest.raises(FileNotFoundError, match='images/'):
        check_data_paths(cfg)


def test_train_tool_without_data_names_the_missing_path(tmp_path):
    proc = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', 'train.py'), COCO_CFG,
         '--work-dir', str(tmp_path),
         '--cfg-options', f'train_dataloader.dataset.data_root={tmp_path}/coco/'],
        capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode != 0
    err = proc.stderr
    assert 'dataset files not found' in err
    assert f'{tmp_path}/coco/annotations/instances_train2017.json' in err
    assert 'Traceback' not in err
