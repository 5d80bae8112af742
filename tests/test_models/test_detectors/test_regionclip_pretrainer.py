"""RegionCLIPPretrainer: pseudo region-text pairs from the teacher, the three
losses of Eq. 5, only the student's image tower trains and is saved, and a
short run on OVD-Shapes images whose loss falls."""
from __future__ import annotations

import os.path as osp
import pickle

import numpy as np
import pytest
import torch
from mmdet.registry import DATASETS, MODELS
from mmdet.utils import register_all_modules
from mmengine.dataset import pseudo_collate
from mmengine.optim import OptimWrapper

import ovd_ext  # noqa: F401
from ovd_ext.datasets.caption_dataset import proposal_key
from ovd_ext.testing.shapes import make_shapes
from ovd_ext.vlm.vocabulary import save_class_embeddings

MEAN = [122.7709383, 116.7460125, 104.09373615]
STD = [68.5005327, 66.6321579, 70.32316305]


@pytest.fixture(scope='module')
def shapes(tmp_path_factory):
    root = make_shapes(tmp_path_factory.mktemp('shapes'), num_train=4,
                       num_val=1)
    import json
    data = json.load(open(osp.join(root, 'annotations',
                                   'instances_train.json')))
    rng = np.random.default_rng(0)
    table = {}
    for img in data['images']:
        boxes = [a['bbox'] for a in data['annotations']
                 if a['image_id'] == img['id']]
        xyxy = [[x, y, x + w, y + h] for x, y, w, h in boxes]
        for _ in range(12 - len(xyxy)):
            x, y = rng.uniform(0, img['width'] - 30), rng.uniform(
                0, img['height'] - 30)
            xyxy.append([x, y, x + rng.uniform(10, 30),
                         y + rng.uniform(10, 30)])
        table[proposal_key(osp.join(root, 'images', img['file_name']))] = {
            'bboxes': np.array(xyxy, np.float32),
            'scores': np.linspace(1, 0.1, len(xyxy)).astype(np.float32)}
    with open(osp.join(root, 'proposals.pkl'), 'wb') as f:
        pickle.dump(table, f)
    rng = np.random.default_rng(1)
    concepts = osp.join(root, 'concepts.npy')
    save_class_embeddings(concepts, rng.normal(size=(6, 128)),
                          [f'c{i}' for i in range(6)], model='random',
                          prompts='none')
    return root


def build(root: str, **kwargs):
    register_all_modules(init_default_scope=True)
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadCaptionProposals', num_max_proposals=10),
        dict(type='RandomCaption'),
        dict(type='ProposalBroadcaster',
             transforms=[dict(type='Resize', scale=(128, 128),
                              keep_ratio=True)]),
        dict(type='PackDetInputs',
             meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                        'scale_factor', 'caption'))]
    dataset = DATASETS.build(dict(
        type='CaptionDataset', data_root=root,
        ann_file='annotations/captions_train.json',
        data_prefix=dict(img='images/'), proposal_file='proposals.pkl',
        pipeline=pipeline))
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='RegionCLIPPretrainer',
        clip=dict(name='ovd-tiny-rn', checkpoint=None),
        concepts=osp.join(root, 'concepts.npy'),
        data_preprocessor=dict(type='DetDataPreprocessor', mean=MEAN,
                               std=STD, bgr_to_rgb=True,
                               pad_size_divisor=32), **kwargs))
    return dataset, model


def test_dataset_items(shapes):
    dataset, _ = build(shapes)
    item = dataset[0]
    sample = item['data_samples']
    assert sample.proposals.bboxes.shape == (10, 4)
    assert sample.metainfo['caption'] in dataset.get_data_info(0)['captions']
    # proposals were resized with the image
    assert sample.proposals.bboxes.max() <= 128 + 1e-3


def test_student_starts_as_teacher_and_only_its_image_tower_is_saved(shapes):
    _, model = build(shapes)
    t = model.teacher.model.visual.state_dict()
    s = model.student.model.visual.state_dict()
    assert all(torch.equal(t[k], s[k]) for k in t)
    keys = list(model.state_dict())
    assert keys and all(k.startswith('student.model.visual.') for k in keys)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all(n.startswith('student.model.visual.')
                             for n in trainable)


def test_losses_and_falling_loss(shapes):
    dataset, model = build(shapes)
    np.random.seed(0)   # the caption each image gets
    batch = pseudo_collate([dataset[i] for i in range(len(dataset))])
    data = model.data_preprocessor(batch, True)
    losses = model(**data, mode='loss')
    assert set(losses) == {'loss_region', 'loss_distill', 'loss_image',
                           'kept_regions'}
    # the student starts as the teacher: nothing to distil yet
    assert losses['loss_distill'].item() == pytest.approx(0.0, abs=1e-4)
    assert float(losses['kept_regions']) == 1.0
    # the config's optimiser: SGD 0.002, momentum 0.9, clipping 5.0
    optim = OptimWrapper(torch.optim.SGD(
        [p for p in model.parameters() if p.requires_grad], lr=0.002,
        momentum=0.9), clip_grad=dict(max_norm=5.0))
    model.train()
    history = []
    for _ in range(10):
        log = model.train_step(batch, optim)
        history.append(float(log['loss'].detach()))
    assert history[-1] < 0.6 * history[0]


def test_switching_losses_off(shapes):
    dataset, model = build(shapes, loss_weights=dict(distill=0.0, image=0.0))
    batch = pseudo_collate([dataset[0], dataset[1]])
    losses = model(**model.data_preprocessor(batch, True), mode='loss')
    assert set(losses) == {'loss_region', 'kept_regions'}
    with pytest.raises(ValueError, match='every loss weight is 0'):
        build(shapes, loss_weights=dict(region=0, distill=0, image=0))


def test_official_region_filter(shapes):
    dataset, model = build(shapes, min_teacher_prob=0.999)
    batch = pseudo_collate([dataset[0]])
    losses = model(**model.data_preprocessor(batch, True), mode='loss')
    assert float(losses['kept_regions']) < 1.0


def test_concept_dimension_mismatch(shapes, tmp_path):
    bad = str(tmp_path / 'bad.npy')
    save_class_embeddings(bad, np.eye(3, 16), ['a', 'b', 'c'],
                          model='random', prompts='none')
    register_all_modules(init_default_scope=True)
    with pytest.raises(ValueError, match='bad.npy has D=16'):
        MODELS.build(dict(type='RegionCLIPPretrainer',
                          clip=dict(name='ovd-tiny-rn', checkpoint=None),
                          concepts=bad))


def test_proposal_file_missing_an_image(shapes, tmp_path):
    with open(osp.join(shapes, 'proposals.pkl'), 'rb') as f:
        table = pickle.load(f)
    first = sorted(table)[0]
    del table[first]
    path = tmp_path / 'partial.pkl'
    with open(path, 'wb') as f:
        pickle.dump(table, f)
    register_all_modules(init_default_scope=True)
    with pytest.raises(KeyError, match=f'no proposals for image {first}'):
        DATASETS.build(dict(
            type='CaptionDataset', data_root=shapes,
            ann_file='annotations/captions_train.json',
            data_prefix=dict(img='images/'), proposal_file=str(path),
            pipeline=[]))


def test_random_regions_instead_of_proposals(shapes):
    # Table 6: random boxes, no proposal file; the pretrainer trains on them
    from mmengine.config import Config
    cfg = Config.fromfile('configs/regionclip/'
                          'regionclip_tiny-rn_pretrain_ovd-shapes_random-boxes.py')
    pipeline = cfg.train_dataloader.dataset.pipeline
    assert [t['type'] for t in pipeline][:2] == ['LoadImageFromFile',
                                                 'RandomRegions']
    assert cfg.train_dataloader.dataset.proposal_file is None
    register_all_modules(init_default_scope=True)
    pipeline[1]['num_boxes'] = 10
    dataset = DATASETS.build(dict(
        type='CaptionDataset', data_root=shapes,
        ann_file='annotations/captions_train.json',
        data_prefix=dict(img='images/'), pipeline=pipeline))
    np.random.seed(0)
    sample = dataset[0]['data_samples']
    assert sample.proposals.bboxes.shape == (10, 4)
    _, model = build(shapes)
    batch = model.data_preprocessor(
        {'inputs': [dataset[i]['inputs'] for i in range(2)],
         'data_samples': [dataset[i]['data_samples'] for i in range(2)]},
        True)
    losses = model.loss(batch['inputs'], batch['data_samples'])
    assert all(torch.isfinite(v).all() for v in losses.values())
    assert float(losses['kept_regions']) == 1.0   # all 20 random regions
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    grads = [p.grad for p in model.student.parameters() if p.requires_grad]
    assert any(g is not None and g.abs().sum() > 0 for g in grads)
