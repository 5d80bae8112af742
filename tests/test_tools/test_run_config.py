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


def _test_args(tmp_path, checkpoint):
    import argparse
    (tmp_path / 'ann.json').write_text('{}')
    (tmp_path / 'images').mkdir(exist_ok=True)
    return argparse.Namespace(
        config=osp.join(ROOT, 'configs', 'regionclip',
                        'zero-shot_tiny-rn-c4_gt-boxes_ovd-shapes.py'),
        checkpoint=checkpoint, work_dir=str(tmp_path / 'work'),
        cfg_options={'test_dataloader.dataset.data_root': f'{tmp_path}/',
                     'test_dataloader.dataset.ann_file': 'ann.json',
                     'test_dataloader.dataset.data_prefix.img': 'images/'},
        launcher='none', local_rank=0, show=False, show_dir=None,
        wait_time=2)


def test_test_config_without_checkpoint_builds_from_the_config_files(
        tmp_path):
    from ovd_ext.apis.run_config import prepare_test_config
    cfg = prepare_test_config(_test_args(tmp_path, None))
    assert cfg.load_from is None          # zero-shot: weights from its files
    ckpt = tmp_path / 'model.pth'
    ckpt.write_bytes(b'x')
    assert prepare_test_config(_test_args(tmp_path, str(ckpt))).load_from \
        == str(ckpt)
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        prepare_test_config(_test_args(tmp_path, str(tmp_path / 'nope.pth')))
