import os.path as osp

import numpy as np
import open_clip
import pytest
import torch
from mmdet.registry import MODELS
from mmengine.config import Config

import ovd_ext  # noqa: F401
from ovd_ext.apis.vocabulary import embed_texts, load_vocabulary, set_vocabulary
from ovd_ext.vlm import build_clip, encode_text
from ovd_ext.vlm.class_names import from_config

CFG_DIR = osp.join(osp.dirname(__file__), '..', '..', 'configs', 'ov_baselines')


def small_model(vocab):
    head = MODELS.build(dict(type='CLIPBBoxHead', vocabulary=vocab,
                             in_channels=4, fc_out_channels=8, roi_feat_size=2))
    model = torch.nn.ModuleDict(dict(bbox_head=head))
    model.dataset_meta = dict(classes=('a', 'b'), palette=[(0, 0, 0)] * 2)
    return model


def test_set_vocabulary_updates_heads_and_meta(vocab_factory):
    model = small_model(vocab_factory(['a', 'b']))
    emb, names = load_vocabulary(vocab_factory(['x', 'y', 'z'], name='v2.npy'))
    assert set_vocabulary(model, emb, names) == 1
    assert model.bbox_head.num_classes == 3
    assert model.dataset_meta['classes'] == ('x', 'y', 'z')
    assert 'palette' not in model.dataset_meta
    scores, _ = model.bbox_head(torch.randn(2, 4, 2, 2))
    assert scores.shape == (2, 4)


def test_set_vocabulary_needs_an_open_vocabulary_head():
    with pytest.raises(ValueError, match='no open-vocabulary head'):
        set_vocabulary(torch.nn.Linear(2, 2), torch.randn(2, 4), ['a', 'b'])


@pytest.fixture(scope='module')
def tiny_clip_ckpt(tmp_path_factory):
    torch.manual_seed(0)
    model = open_clip.create_model('ovd-tiny-vit')
    path = tmp_path_factory.mktemp('clip') / 'tiny.pt'
    torch.save(model.state_dict(), path)
    return str(path)


def test_embed_texts_with_the_config_clip(tiny_clip_ckpt):
    cfg = Config(dict(clip=dict(name='ovd-tiny-vit', checkpoint=tiny_clip_ckpt,
                                templates='short')))
    emb, names = embed_texts(cfg, 'cat, sofa/couch')
    assert names == ['cat', 'sofa'] and emb.shape == (2, 128)
    clip = build_clip('ovd-tiny-vit', tiny_clip_ckpt)
    expected = encode_text(clip, [['cat'], ['sofa', 'couch']], templates='short')
    torch.testing.assert_close(emb, expected)


def test_embed_texts_needs_clip_field():
    with pytest.raises(KeyError, match='clip = dict'):
        embed_texts(Config(dict()), 'cat')


def test_classes_from_config_follow_metainfo_order():
    cfg = Config.fromfile(
        osp.join(CFG_DIR, 'faster-rcnn_r50_fpn_clip-head_1x_ov-coco.py'))
    classes = from_config(cfg)
    assert classes.names == list(cfg.ov_coco_classes)
    assert len(classes) == 65 and classes.synonyms[0] == ['person']
    lvis = from_config(Config.fromfile(
        osp.join(CFG_DIR, 'mask-rcnn_r50_fpn_clip-head_1x_ov-lvis.py')))
    assert len(lvis) == 1203


def test_ensure_vocabulary_remakes_a_stale_file(tmp_path, tiny_clip_ckpt):
    from ovd_ext.apis.vocabulary import ensure_vocabulary
    from ovd_ext.vlm.vocabulary import file_sha256, read_sidecar
    vocab = str(tmp_path / 'v.npy')
    cfg = Config(dict(
        clip=dict(name='ovd-tiny-vit', checkpoint=tiny_clip_ckpt,
                  templates='short'),
        vocabulary=vocab,
        test_dataloader=dict(dataset=dict(metainfo=dict(classes=('a', 'b'))))))
    assert ensure_vocabulary(cfg) == vocab
    first = load_vocabulary(vocab)[0]
    assert read_sidecar(vocab)['weights_sha256'] == file_sha256(tiny_clip_ckpt)
    stamp = osp.getmtime(vocab)
    ensure_vocabulary(cfg)                    # same weights: kept as is
    assert osp.getmtime(vocab) == stamp
    # other weights in the same file: the vocabulary is re-embedded
    torch.manual_seed(1)
    other = open_clip.create_model('ovd-tiny-vit').state_dict()
    weights = str(tmp_path / 'w.pt')
    torch.save(other, weights)
    cfg.clip['checkpoint'] = weights
    ensure_vocabulary(cfg)
    assert read_sidecar(vocab)['weights_sha256'] == file_sha256(weights)
    assert not torch.allclose(torch.as_tensor(load_vocabulary(vocab)[0]),
                              torch.as_tensor(first))


def test_set_vocabulary_with_a_text_background_head(vocab_factory):
    vocab = vocab_factory(['background', 'a', 'b'])
    head = MODELS.build(dict(
        type='CLIPBBoxHead', vocabulary=vocab, bg_embedding='text',
        in_channels=4, fc_out_channels=8, roi_feat_size=2))
    model = torch.nn.ModuleDict(dict(bbox_head=head))
    emb, names = load_vocabulary(
        vocab_factory(['background', 'x', 'y', 'z'], name='v2.npy', seed=3))
    set_vocabulary(model, emb, names, source='v2.npy')
    # the 'background' row became the background embedding, not a class
    assert model.bbox_head.num_classes == 3
    assert model.dataset_meta['classes'] == ('x', 'y', 'z')
    torch.testing.assert_close(head.fc_cls.bg_text, emb[0])


def test_from_config_prepends_background_when_asked():
    cfg = Config(dict(test_dataloader=dict(dataset=dict(
        type='CocoDataset', metainfo=dict(classes=('a', 'b'))))))
    assert from_config(cfg).names == ['a', 'b']
    cfg.vocabulary_background = True
    classes = from_config(cfg)
    assert classes.names == ['background', 'a', 'b']
    assert classes.synonyms[0] == ['background']
    assert from_config(cfg, background=False).names == ['a', 'b']
    cfg.test_dataloader.dataset.metainfo['classes'] = ('a', 'background')
    with pytest.raises(ValueError, match="already hold 'background'"):
        from_config(cfg)


def test_ensure_vocabulary_prepends_background(tmp_path, tiny_clip_ckpt):
    from ovd_ext.apis.vocabulary import ensure_vocabulary
    from ovd_ext.vlm.vocabulary import load_background_vocabulary
    vocab = str(tmp_path / 'v.npy')
    cfg = Config(dict(
        clip=dict(name='ovd-tiny-vit', checkpoint=tiny_clip_ckpt,
                  templates='short'),
        vocabulary=vocab,
        test_dataloader=dict(dataset=dict(metainfo=dict(classes=('a', 'b'))))))
    ensure_vocabulary(cfg)                    # made without the background
    assert load_vocabulary(vocab)[1] == ['a', 'b']
    cfg.vocabulary_background = True          # now stale: re-embedded
    ensure_vocabulary(cfg)
    emb, names = load_vocabulary(vocab)
    assert names == ['background', 'a', 'b'] and emb.shape == (3, 128)
    clip = build_clip('ovd-tiny-vit', tiny_clip_ckpt)
    expected = encode_text(clip, [['background'], ['a'], ['b']],
                           templates='short')
    torch.testing.assert_close(emb, expected, atol=1e-6, rtol=1e-5)
    bg, rest, classes = load_background_vocabulary(vocab, expected_num=2)
    assert classes == ['a', 'b'] and np.array_equal(bg, emb[0].numpy())
    stamp = osp.getmtime(vocab)
    ensure_vocabulary(cfg)                    # up to date: kept as is
    assert osp.getmtime(vocab) == stamp
