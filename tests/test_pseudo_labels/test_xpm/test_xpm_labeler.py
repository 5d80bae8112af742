"""XPMLabeler through the runner on a few OVD-Shapes images: categories =
the caption vocabulary, one pseudo label (box + RLE mask) per caption noun,
word ids, skipped images, dropped nouns and settings errors. The teacher has
random weights; its mask logits are pinned (zero weights, a constant bias) so
the pseudo masks are known: +5 -> the whole aligned box, -5 -> empty."""
import json
import math
import os.path as osp

import numpy as np
import pytest
import torch
from mmdet.registry import DATASETS
from pycocotools import mask as mask_utils

import ovd_ext  # noqa: F401
from ovd_ext import shapes
from ovd_ext.pseudo_labels import build_labeler, detector, run_labeler

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..', '..'))
TEACHER = osp.join(ROOT, 'configs', 'xpm',
                   'mask-rcnn_r18-narrow_fpn_xpm-teacher_ovd-shapes.py')
CLASSES = list(shapes.CLASSES)
# the nouns of the generated captions (shapes_root: 3 train images, seed 5)
NOUNS = {1: ['star'], 2: ['ring', 'mushroom'], 3: ['house']}


@pytest.fixture
def mask_logit(monkeypatch):
    """Set ``mask_logit['value']`` to pin the teacher's mask logits."""
    state = {}
    load = detector.load_two_stage_detector

    def pinned(*args, **kwargs):
        model = load(*args, **kwargs)
        if 'value' in state:
            conv = model.roi_head.mask_head.conv_logits
            with torch.no_grad():
                conv.weight.zero_()
                conv.bias.fill_(state['value'])
        return model
    monkeypatch.setattr(detector, 'load_two_stage_detector', pinned)
    return state


@pytest.fixture
def setup(shapes_root, vocab_factory, tmp_path):
    """The 20-class vocabulary (teacher classes and V_C) and a teacher
    config that inherits the shipped one with that vocabulary."""
    vocab = vocab_factory(CLASSES, dim=16, name='words.npy')
    cfg = tmp_path / 'teacher.py'
    cfg.write_text(f'_base_ = {TEACHER!r}\n'
                   f'vocabulary = {vocab!r}\n'
                   'model = dict(roi_head=dict(bbox_head=dict('
                   'vocabulary=vocabulary)))\n')
    ann = osp.join(shapes_root, 'annotations')
    return dict(root=shapes_root, vocab=vocab, teacher=str(cfg),
                ann_file=osp.join(ann, 'instances_train.json'),
                captions=osp.join(ann, 'captions_train.json'),
                nouns=osp.join(ann, 'lvis_v1_train.json'))


def labeler(s, **kwargs):
    cfg = dict(type='XPMLabeler', teacher_config=s['teacher'],
               random_weights=True, captions=s['captions'], nouns=s['nouns'],
               vocabulary=s['vocab'])
    cfg.update(kwargs)
    return cfg


def run(s, out, **kwargs):
    return run_labeler(labeler(s, **kwargs), s['ann_file'],
                       osp.join(s['root'], 'images'), str(out),
                       progress=False)


def write_captions(path, captions):
    """A COCO-Captions json ``{image_id: [caption, ...]}``."""
    anns = [dict(id=k + 1, image_id=i, caption=c) for k, (i, c) in
            enumerate((i, c) for i, caps in captions.items() for c in caps)]
    path.write_text(json.dumps(dict(annotations=anns)))
    return str(path)


def test_generated_captions_name_the_expected_nouns(setup):
    caps = {}
    for a in json.load(open(setup['captions']))['annotations']:
        caps.setdefault(a['image_id'], []).append(a['caption'].lower())
    assert sorted(caps) == [1, 2, 3]
    for img_id, nouns in NOUNS.items():
        for noun in nouns:
            assert any(noun in c for c in caps[img_id]), (img_id, noun)


def test_one_pseudo_label_per_caption_noun(setup, mask_logit, tmp_path):
    mask_logit['value'] = 5.0              # every mask = its aligned box
    out = tmp_path / 'out' / 'xpm.json'
    res = run(setup, out)
    assert res['counts'] == {'done_before': 0, 'labeled': 3, 'skipped': 0}
    pl = json.load(open(out))
    # categories: the caption vocabulary V_C, ids 1..20 in file order
    assert pl['categories'] == [dict(id=i + 1, name=w)
                                for i, w in enumerate(CLASSES)]
    images = {im['id']: im for im in json.load(open(setup['ann_file']))[
        'images']}
    assert [im['id'] for im in pl['images']] == [1, 2, 3]
    anns = pl['annotations']
    assert len(anns) == 4
    by_image = {}
    for a in anns:
        by_image.setdefault(a['image_id'], []).append(a)
        im = images[a['image_id']]
        h, w = im['height'], im['width']
        # word id <-> category id; the image's caption words include it
        assert a['word_id'] == a['category_id'] - 1
        expected_words = [CLASSES.index(n) for n in NOUNS[a['image_id']]]
        assert a['caption_words'] == expected_words
        assert a['word_id'] in a['caption_words']
        assert a['pseudo'] is True and a['iscrowd'] == 0
        # sigmoid of a cosine of unit vectors
        assert 1 / (1 + math.e) - 1e-5 <= a['score'] <= 1 / (1 + math.e
                                                             ** -1) + 1e-5
        # an RLE mask of the image's size; its area is the record's
        seg = a['segmentation']
        assert seg['size'] == [h, w] and isinstance(seg['counts'], str)
        m = mask_utils.decode(dict(size=seg['size'],
                                   counts=seg['counts'].encode()))
        assert m.shape == (h, w)
        assert a['area'] == pytest.approx(float(m.sum()))
        # positive logits: the mask is the box (pixel centres inside it;
        # the box is rounded to 0.01 px)
        x, y, bw, bh = a['bbox']
        assert bw > 0 and bh > 0 and x >= 0 and y >= 0
        assert x + bw <= w + 1e-6 and y + bh <= h + 1e-6
        cx = np.arange(w)[None, :] + 0.5
        cy = np.arange(h)[:, None] + 0.5
        tol = 0.011
        inner = ((cx > x + tol) & (cx < x + bw - tol) & (cy > y + tol)
                 & (cy < y + bh - tol))
        outer = ((cx >= x - tol) & (cx <= x + bw + tol) & (cy >= y - tol)
                 & (cy <= y + bh + tol))
        assert np.all(m[inner] == 1) and np.all(m[~outer] == 0)
    # one pseudo label per noun of the image's captions
    for img_id, nouns in NOUNS.items():
        assert sorted(a['word_id'] for a in by_image[img_id]) == sorted(
            CLASSES.index(n) for n in nouns)
    report = res['report']
    assert report['num_pseudo_labels'] == 4
    assert report['dropped_by_reason'] == {}
    assert report['skipped_by_reason'] == {}
    assert report['per_category'] == {'star': 1, 'ring': 1, 'house': 1,
                                      'mushroom': 1}
    assert report['settings']['labeler']['wordnet'] is False
    # the student's dataset reads them: labels are the word ids
    ds = DATASETS.build(dict(type='CaptionPseudoLabelDataset',
                             ann_file=str(out), vocabulary=setup['vocab'],
                             data_prefix=dict(img=setup['root'] + '/images/'),
                             pipeline=[]))
    assert ds.metainfo['classes'] == tuple(CLASSES)
    labels = {i: sorted(x['bbox_label'] for x in ds.get_data_info(k)[
        'instances']) for k, i in enumerate([1, 2, 3])}
    assert labels == {i: sorted(CLASSES.index(n) for n in nouns)
                      for i, nouns in NOUNS.items()}


def test_empty_masks_are_dropped_and_counted(setup, mask_logit, tmp_path):
    mask_logit['value'] = -5.0             # every mask empty after Eq. 4
    res = run(setup, tmp_path / 'xpm.json')
    assert res['counts']['labeled'] == 3
    assert res['report']['num_pseudo_labels'] == 0
    assert res['report']['dropped_by_reason'] == {'empty_mask': 4}


def test_image_without_vocabulary_noun_is_skipped(setup, mask_logit,
                                                  tmp_path):
    mask_logit['value'] = 5.0
    caps = write_captions(tmp_path / 'caps.json', {
        # image 1: no caption at all; image 3: captions without a noun of
        # the vocabulary ('square' is not named, 'cartoon' is no class)
        2: ['A large pink ring to the left of a brown mushroom.'],
        3: ['A cartoon on a noisy background.', 'Nothing to see here.']})
    out = tmp_path / 'xpm.json'
    res = run(setup, out, captions=caps)
    assert res['counts'] == {'done_before': 0, 'labeled': 1, 'skipped': 2}
    report = res['report']
    assert report['skipped_by_reason'] == {'no_caption': 1,
                                           'no_object_word': 1}
    kinds = {s['image_id']: s['kind'] for s in report['skipped']}
    assert kinds == {1: 'no_caption', 3: 'no_object_word'}
    why = {s['image_id']: s['reason'] for s in report['skipped']}
    assert caps in why[1] and 'cartoon' in why[3].lower()
    pl = json.load(open(out))
    assert [im['id'] for im in pl['images']] == [2]
    assert sorted(a['word_id'] for a in pl['annotations']) == [
        CLASSES.index('ring'), CLASSES.index('mushroom')]


def test_captions_of_unknown_images_are_an_error(setup, tmp_path):
    caps = write_captions(tmp_path / 'other_caps.json',
                          {1001: ['a star'], 1002: ['a ring']})
    out = tmp_path / 'out' / 'xpm.json'
    with pytest.raises(ValueError, match='no image id') as err:
        run(setup, out, captions=caps)
    assert caps in str(err.value) and setup['ann_file'] in str(err.value)
    assert not osp.exists(out.parent)         # nothing written
    # some unknown ids are only a warning
    caps = write_captions(tmp_path / 'some_caps.json',
                          {1: ['a star'], 1001: ['a ring']})
    lab = build_labeler(labeler(setup, captions=caps), setup['ann_file'])
    assert lab.captions == {1: ['a star'], 1001: ['a ring']}


def test_nouns_without_embedding_are_counted(setup, mask_logit,
                                             vocab_factory, tmp_path):
    mask_logit['value'] = 5.0
    words = [c for c in CLASSES if c != 'mushroom']
    vocab19 = vocab_factory(words, dim=16, name='words19.npy', seed=1)
    # nouns as a list of the 20 class names
    cfg = labeler(setup, vocabulary=vocab19, nouns=CLASSES)
    lab = build_labeler(cfg, setup['ann_file'])
    assert lab.missing_words == ['mushroom']
    res = run(setup, tmp_path / 'xpm.json', vocabulary=vocab19,
              nouns=CLASSES)
    report = res['report']
    assert report['dropped_by_reason'] == {'word_without_embedding': 1}
    pl = json.load(open(tmp_path / 'xpm.json'))
    assert pl['categories'] == [dict(id=i + 1, name=w)
                                for i, w in enumerate(words)]
    ring = words.index('ring')
    image2 = [a for a in pl['annotations'] if a['image_id'] == 2]
    assert [(a['word_id'], a['category_id']) for a in image2] == [
        (ring, ring + 1)]
    assert image2[0]['caption_words'] == [ring]
    assert len(pl['annotations']) == 3


def test_settings_are_checked_when_built(setup, tmp_path):
    ann = setup['ann_file']
    with pytest.raises(ValueError, match='teacher_checkpoint is not set'):
        build_labeler(labeler(setup, random_weights=False), ann)
    for key in ('captions', 'nouns', 'vocabulary', 'teacher_config'):
        with pytest.raises(ValueError, match=f'{key} is required'):
            build_labeler(labeler(setup, **{key: None}), ann)
    missing = str(tmp_path / 'absent.npy')
    with pytest.raises(FileNotFoundError, match='absent.npy'):
        build_labeler(labeler(setup, vocabulary=missing), ann)
    with pytest.raises(ValueError, match='min_mask_pixels'):
        build_labeler(labeler(setup, min_mask_pixels=0), ann)
