"""Evaluating a checkpoint with a vocabulary of another embedding dimension
stops with an error that names both files and both dimensions (tools/test.py
and any mmengine Runner), instead of a size-mismatch warning and random AP."""
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmdet.registry import MODELS
from mmdet.utils import register_all_modules
from mmengine.config import Config
from mmengine.runner import Runner

import ovd_ext  # noqa: F401
from ovd_ext import shapes
from ovd_ext.models.layers import EmbeddingDimMismatchError
from ovd_ext.vlm.vocabulary import save_class_embeddings

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
CONFIG = osp.join(ROOT, 'configs', 'ov_baselines',
                  'mask-rcnn_r18-narrow_fpn_clip-head_ovd-shapes.py')


@pytest.fixture(scope='module')
def tiny_data(tmp_path_factory):
    """A few OVD-Shapes val images and a checkpoint trained with D=16."""
    root = tmp_path_factory.mktemp('vocab_dim')
    data = root / 'shapes'
    shapes.generate_ovd_shapes(str(data), num_train=4, num_val=2,
                               num_imagelabel=1, seed=0, progress=False)
    rng = np.random.default_rng(0)
    vocab16, vocab32 = str(root / 'd16.npy'), str(root / 'd32.npy')
    for path, dim in ((vocab16, 16), (vocab32, 32)):
        emb = rng.normal(size=(len(shapes.CLASSES), dim))
        save_class_embeddings(path, emb, shapes.CLASSES)
    register_all_modules()
    cfg = Config.fromfile(CONFIG)
    cfg.model.roi_head.bbox_head.vocabulary = vocab16
    model = MODELS.build(cfg.model)
    ckpt = str(root / 'tiny_d16.pth')
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, ckpt)
    proj = model.roi_head.bbox_head.fc_cls.proj.weight
    assert proj.shape[0] == 16
    return dict(data=str(data), ckpt=ckpt, vocab16=vocab16, vocab32=vocab32)


def overrides(tiny: dict, vocab: str) -> dict:
    """Config options pointing the baseline at the tiny data and ``vocab``."""
    ann = osp.join(tiny['data'], 'annotations')
    return {
        'model.roi_head.bbox_head.vocabulary': vocab,
        'test_dataloader.dataset.data_root': tiny['data'] + '/',
        'test_dataloader.num_workers': 0,
        'test_dataloader.persistent_workers': False,
        'test_evaluator.0.ann_file': osp.join(ann, 'instances_val.json'),
        'test_evaluator.1.ann_file': osp.join(ann, 'lvis_v1_val.json'),
    }


def test_runner_refuses_the_checkpoint_and_names_both_files(tiny_data,
                                                            tmp_path):
    register_all_modules()
    cfg = Config.fromfile(CONFIG)
    cfg.merge_from_dict(overrides(tiny_data, tiny_data['vocab32']))
    cfg.work_dir = str(tmp_path)
    cfg.load_from = tiny_data['ckpt']
    runner = Runner.from_cfg(cfg)
    with pytest.raises(EmbeddingDimMismatchError) as err:
        runner.test()
    assert str(err.value).startswith(
        f'embedding dimension mismatch: the vocabulary {tiny_data["vocab32"]} '
        f'has D=32 but the classifier of {tiny_data["ckpt"]} projects to D=16')


def test_test_tool_stops_with_a_clear_error(tiny_data, tmp_path):
    opts = [f'{k}={v}' for k, v in
            overrides(tiny_data, tiny_data['vocab32']).items()]
    proc = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', 'test.py'), CONFIG,
         tiny_data['ckpt'], '--work-dir', str(tmp_path), '--cfg-options',
         *opts], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode != 0
    err = proc.stderr
    assert 'Traceback' not in err
    assert (f'error: embedding dimension mismatch: the vocabulary '
            f'{tiny_data["vocab32"]} has D=32 but the classifier of '
            f'{tiny_data["ckpt"]} projects to D=16') in err
    assert 'coco/bbox_AP50' not in proc.stdout   # no evaluation ran
