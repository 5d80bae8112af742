"""VLPLMLabeler: built from one config dict through the registry, every
setting checked at build time, models loaded only when there is work, and a
run that fails at start leaves no shard behind."""
import json
import os.path as osp

import pytest

from ovd_ext.pseudo_labels import (PSEUDO_LABELERS, VLPLMLabeler,
                                   build_labeler, run_labeler)
from ovd_ext.shapes import NOVEL_CLASSES


@pytest.fixture
def ann(shapes_root):
    return osp.join(shapes_root, 'annotations', 'instances_train.json')


def cfg(proposal_cfg, **kw):
    return dict(dict(type='VLPLMLabeler', proposal_config=proposal_cfg,
                     proposal_checkpoint='gen.pth',
                     clip=dict(name='ovd-tiny-vit', checkpoint='clip.pt'),
                     targets=list(NOVEL_CLASSES)), **kw)


def test_built_through_the_registry(proposal_cfg, ann):
    assert PSEUDO_LABELERS.get('VLPLMLabeler') is VLPLMLabeler
    lab = build_labeler(cfg(proposal_cfg, targets='star, ring', tau=0.5,
                            label_space='novel+bg'), ann)
    assert isinstance(lab, VLPLMLabeler)
    assert lab.targets == ['star', 'ring']
    assert lab.space.names[-1] == 'background'
    head = lab.header()
    assert head['type'] == 'VLPLMLabeler' and head['settings']['tau'] == 0.5
    assert head['clip'] == {'name': 'ovd-tiny-vit', 'checkpoint': 'clip.pt',
                            'precision': 'fp32', 'templates': 'imagenet80'}
    assert json.loads(json.dumps(head)) == head          # json-able
    with pytest.raises(KeyError, match='unknown pseudo labeler type'):
        build_labeler(dict(type='NoSuchLabeler'), ann)
    with pytest.raises(ValueError, match='"type"'):
        build_labeler(dict(tau=0.8), ann)


def test_bad_settings_fail_at_build(proposal_cfg, ann):
    with pytest.raises(ValueError, match=r'tau must be a number in \[0, 1\]'):
        build_labeler(cfg(proposal_cfg, tau=float('nan')), ann)
    with pytest.raises(ValueError, match='logit_scale'):
        build_labeler(cfg(proposal_cfg, logit_scale=-1), ann)
    with pytest.raises(ValueError, match=r"unknown setting\(s\) \['taux'\]"):
        build_labeler(cfg(proposal_cfg, taux=0.8), ann)
    with pytest.raises(ValueError, match='clip.precision'):
        build_labeler(cfg(proposal_cfg, clip=dict(name='x', checkpoint='y',
                                                  precision='int8')), ann)
    with pytest.raises(ValueError, match=r"unknown clip key\(s\) \['ckpt'\]"):
        build_labeler(cfg(proposal_cfg, clip=dict(name='x', ckpt='y')), ann)
    with pytest.raises(ValueError, match='clip.checkpoint'):
        build_labeler(cfg(proposal_cfg, clip=dict(name='x')), ann)
    with pytest.raises(ValueError, match='proposal_checkpoint is not set'):
        build_labeler(cfg(proposal_cfg, proposal_checkpoint=None), ann)
    with pytest.raises(ValueError, match='teacher_only needs a teacher'):
        build_labeler(cfg(proposal_cfg, teacher_only=True), ann)
    with pytest.raises(ValueError, match=r"class\(es\) \['cow'\]"):
        build_labeler(cfg(proposal_cfg, targets=['cow']), ann)
    with pytest.raises(ValueError, match='seed'):
        build_labeler(cfg(proposal_cfg, seed=-1), ann)


def test_failed_start_leaves_no_shards(proposal_cfg, shapes_root, ann,
                                       tmp_path):
    out = str(tmp_path / 'pl.json')
    img_dir = osp.join(shapes_root, 'images')
    with pytest.raises(FileNotFoundError, match='proposal_checkpoint gen.pth'):
        run_labeler(cfg(proposal_cfg), ann, img_dir, out, progress=False)
    assert not osp.exists(tmp_path / 'pl.shards')
    missing_clip = cfg(proposal_cfg, random_weights=['proposal'],
                       clip=dict(name='ovd-tiny-vit',
                                 checkpoint=str(tmp_path / 'no.pt')))
    with pytest.raises(FileNotFoundError, match='no.pt'):
        run_labeler(missing_clip, ann, img_dir, out, progress=False)
    assert not osp.exists(tmp_path / 'pl.shards')
    with pytest.raises(ValueError, match='tau'):
        run_labeler(cfg(proposal_cfg, tau=2), ann, img_dir, out, workers=2)
    assert not osp.exists(tmp_path / 'pl.shards') and not osp.exists(out)


def test_teacher_only_needs_no_models(ann, tmp_path, shapes_root):
    src = json.load(open(ann))
    img = sorted(src['images'], key=lambda i: i['id'])[0]
    star = next(c['id'] for c in src['categories'] if c['name'] == 'star')
    teacher = tmp_path / 'teacher.json'
    teacher.write_text(json.dumps([
        {'image_id': img['id'], 'category_id': star, 'bbox': [1, 2, 30, 40],
         'score': 0.9},
        {'image_id': img['id'], 'category_id': star, 'bbox': [1, 2, 30, 40],
         'score': float('nan')}]))                       # dropped, counted
    out = str(tmp_path / 'pl.json')
    res = run_labeler(dict(type='VLPLMLabeler', teacher=str(teacher),
                           teacher_only=True, targets=list(NOVEL_CLASSES)),
                      ann, osp.join(shapes_root, 'images'), out,
                      progress=False)
    pl = json.load(open(out))
    assert [(a['image_id'], a['bbox'], a['score'])
            for a in pl['annotations']] == [(img['id'], [1, 2, 30, 40], 0.9)]
    assert res['report']['num_pseudo_labels'] == 1
    assert pl['info']['settings']['labeler']['teacher_only'] is True
