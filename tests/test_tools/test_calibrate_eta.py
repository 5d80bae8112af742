"""tools/xpm/calibrate_eta.py in-process on the OVD-Shapes XPM student
config with a tiny captioned pseudo-label set: with the noise head pinned
(zero weights, bias log 0.25) every object's average noise is 0.25, so the
calibrated eta (the smallest per-image average) is 0.25; a checkpoint
without noise-head weights is refused."""
from __future__ import annotations

import importlib.util
import json
import math
import os.path as osp

import pytest
import torch
from mmdet.registry import MODELS
from mmdet.utils import register_all_modules
from mmengine.config import Config

import ovd_ext  # noqa: F401
from ovd_ext.shapes import CLASSES
from ovd_ext.testing import make_shapes

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
TOOL = osp.join(ROOT, 'tools', 'xpm', 'calibrate_eta.py')
STUDENT = osp.join(ROOT, 'configs', 'xpm',
                   'mask-rcnn_r18-narrow_fpn_xpm_ovd-shapes.py')
NOISE = 0.25
# pseudo labels on images 1 and 3 (two on image 1), none on image 2
LABELED = {1: 2, 3: 1}


pytestmark = pytest.mark.usefixtures('fast_mmdet_bases')


@pytest.fixture(scope='module')
def tool():
    spec = importlib.util.spec_from_file_location('calibrate_eta_tool', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def shapes_root(tmp_path_factory):
    return make_shapes(str(tmp_path_factory.mktemp('shapes')))


def write_pseudo_labels(root: str, path) -> str:
    """XPMLabeler-style json on the training images: categories = the
    caption vocabulary (ids 1..20), word ids, RLE masks (ground-truth masks
    of the images' objects, relabelled by word)."""
    with open(osp.join(root, 'annotations', 'instances_train.json')) as f:
        gt = json.load(f)
    anns = []
    for img_id, n in LABELED.items():
        objs = [a for a in gt['annotations'] if a['image_id'] == img_id]
        objs = (objs * n)[:n]
        for k, a in enumerate(objs):
            word = (a['category_id'] - 1 + k) % len(CLASSES)
            anns.append(dict(id=len(anns) + 1, image_id=img_id,
                             category_id=word + 1, bbox=a['bbox'],
                             area=a['area'], segmentation=a['segmentation'],
                             score=0.8, iscrowd=0, pseudo=True, word_id=word,
                             caption_words=[word]))
    path.write_text(json.dumps(dict(
        info=dict(format_version=1), images=gt['images'],
        categories=[dict(id=i + 1, name=c) for i, c in enumerate(CLASSES)],
        annotations=anns)))
    return str(path)


@pytest.fixture
def setup(tmp_path, shapes_root, vocab_factory):
    """(config path, argv options pointing the caption dataset at the tiny
    pseudo labels, checkpoint path, stripped checkpoint path)."""
    vocab = vocab_factory(list(CLASSES), dim=16, name='words.npy')
    cfg_path = tmp_path / 'student.py'
    cfg_path.write_text(
        f'_base_ = {STUDENT!r}\n'
        f'vocabulary = {vocab!r}\n'
        f'caption_vocabulary = {vocab!r}\n'
        'model = dict(roi_head=dict(caption_vocabulary=vocabulary, '
        'bbox_head=dict(vocabulary=vocabulary)))\n')
    pl = write_pseudo_labels(shapes_root, tmp_path / 'pl.json')
    key = 'train_dataloader.dataset.datasets.1'
    options = ['--cfg-options', f'{key}.ann_file={pl}',
               f'{key}.data_root={shapes_root}/',
               f'{key}.vocabulary={vocab}']
    register_all_modules()
    cfg = Config.fromfile(str(cfg_path))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    conv = model.roi_head.mask_head.noise_head.conv
    with torch.no_grad():
        conv.weight.zero_()
        conv.bias.fill_(math.log(NOISE))
    state = model.state_dict()
    assert {'roi_head.mask_head.noise_head.conv.weight',
            'roi_head.mask_head.noise_head.conv.bias'} <= set(state)
    ckpt = tmp_path / 'iter_850.pth'
    torch.save({'state_dict': state, 'meta': {}}, str(ckpt))
    stripped = tmp_path / 'exported.pth'
    torch.save({'state_dict': {k: v for k, v in state.items()
                               if 'noise_head' not in k}},
               str(stripped))
    return str(cfg_path), options, str(ckpt), str(stripped)


def test_eta_is_the_pinned_noise_level(tool, setup, tmp_path, capsys):
    cfg, options, ckpt, _ = setup
    out = tmp_path / 'res' / 'eta.json'
    assert tool.main([cfg, ckpt, '--out', str(out)] + options) == 0
    with open(out) as f:
        res = json.load(f)
    # printed after the COCO api's loading messages
    text = capsys.readouterr().out
    printed = json.loads(text[text.index('{\n'):])
    assert printed == res
    assert res['eta'] == pytest.approx(NOISE, abs=1e-5)
    assert res['mean'] == pytest.approx(NOISE, abs=1e-5)
    for q in ('q1', 'q10', 'q50'):
        assert res[q] == pytest.approx(NOISE, abs=1e-5)
    # one level per image with pseudo labels (image 2 has none)
    assert res['num_images'] == len(LABELED) == 2
    assert res['checkpoint'] == ckpt and res['config'] == cfg
    # the json is what XPMRoIHead reads as eta
    from ovd_ext.models.roi_heads.xpm_roi_head import read_eta
    assert read_eta(str(out)) == pytest.approx(NOISE, abs=1e-5)


def test_num_images_limits_the_sample(tool, setup, tmp_path, capsys):
    cfg, options, ckpt, _ = setup
    out = tmp_path / 'eta1.json'
    assert tool.main([cfg, ckpt, '--num-images', '1', '--out', str(out)]
                     + options) == 0
    with open(out) as f:
        res = json.load(f)
    assert res['num_images'] == 1
    assert res['eta'] == pytest.approx(NOISE, abs=1e-5)


def test_checkpoint_without_noise_head_is_refused(tool, setup, tmp_path):
    cfg, options, _, stripped = setup
    out = tmp_path / 'eta.json'
    with pytest.raises(SystemExit) as e:
        tool.main([cfg, stripped, '--out', str(out)] + options)
    message = str(e.value.code)
    assert stripped in message
    assert 'has no noise head weights' in message
    assert not out.exists()
