import importlib.util
import json
import os.path as osp
import shutil

import numpy as np
import pytest

from ovd_ext.vlm import (MODEL_CONFIG_DIR, build_clip, build_clip_from_cfg,
                         encode_text, from_dataset_class, from_json,
                         from_names, from_text_file, load_class_embeddings)

TOOL = osp.join(osp.dirname(__file__), '..', '..', 'tools',
                'embed_vocabulary.py')


def _tool():
    spec = importlib.util.spec_from_file_location('embed_vocabulary', TOOL)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _lvis_json(tmp_path):
    cats = [{'id': 3, 'name': 'bow_(weapon)', 'synonyms': ['bow_(weapon)',
                                                         'longbow']},
            {'id': 1, 'name': 'aerosol_can', 'synonyms': ['aerosol_can',
                                                        'spray_can']}]
    path = tmp_path / 'lvis.json'
    path.write_text(json.dumps({'categories': cats, 'images': []}))
    return str(path)


def test_readers(tmp_path):
    cl = from_json(_lvis_json(tmp_path))
    assert cl.names == ['aerosol_can', 'bow_(weapon)']   # sorted by id
    assert cl.synonyms == [['aerosol can', 'spray can'],
                           ['bow (weapon)', 'longbow']]
    assert from_json(_lvis_json(tmp_path), use_synonyms=False).synonyms == [
        ['aerosol can'], ['bow (weapon)']]
    txt = tmp_path / 'classes.txt'
    txt.write_text('# shapes\nred circle\n\nsofa / couch\n')
    cl = from_text_file(str(txt))
    assert cl.names == ['red circle', 'sofa']
    assert cl.synonyms == [['red circle'], ['sofa', 'couch']]
    assert from_names('cat, sofa/couch').synonyms == [['cat'],
                                                     ['sofa', 'couch']]
    coco = from_dataset_class('CocoDataset')
    assert len(coco) == 80 and coco.names[0] == 'person'
    with pytest.raises(KeyError, match='not registered'):
        from_dataset_class('NoSuchDataset')


def test_tool_names_writes_npy_and_sidecar(tmp_path, tiny_vit, tiny_vit_ckpt):
    out = str(tmp_path / 'voc' / 'shapes.npy')
    _tool().main(['--model', 'ovd-tiny-vit', '--checkpoint', tiny_vit_ckpt,
                  '--names', 'red circle,sofa/couch', '--templates', 'short',
                  '--out', out])
    emb, classes = load_class_embeddings(
        out, expected_classes=['red circle', 'sofa'], expected_dim=128)
    assert classes == ['red circle', 'sofa'] and emb.shape == (2, 128)
    side = json.load(open(osp.splitext(out)[0] + '.json'))
    assert side['prompts'] == 'short' and 'ovd-tiny-vit' in side['model']
    clip = build_clip('ovd-tiny-vit', tiny_vit_ckpt)
    ref = encode_text(clip, [['red circle'], ['sofa', 'couch']], 'short')
    assert np.allclose(emb, ref.numpy(), atol=1e-6)
    assert np.allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-6)


def test_tool_dataset_class_and_json(tmp_path, tiny_vit_ckpt):
    tool = _tool()
    out = str(tmp_path / 'coco.npy')
    tool.main(['--model', 'ovd-tiny-vit', '--checkpoint', tiny_vit_ckpt,
               '--dataset-class', 'CocoDataset', '--templates', 'short',
               '--out', out])
    coco = from_dataset_class('CocoDataset').names
    emb, _ = load_class_embeddings(out, expected_classes=coco)
    assert emb.shape == (80, 128)
    out = str(tmp_path / 'lvis.npy')
    tool.main(['--model', 'ovd-tiny-vit', '--checkpoint', tiny_vit_ckpt,
               '--classes-from-json', _lvis_json(tmp_path),
               '--templates', 'short', '--out', out])
    _, classes = load_class_embeddings(out)
    assert classes == ['aerosol_can', 'bow_(weapon)']


def test_tool_requires_one_source(tiny_vit_ckpt):
    with pytest.raises(SystemExit):
        _tool().main(['--model', 'ovd-tiny-vit', '--checkpoint',
                      tiny_vit_ckpt, '--out', 'x.npy'])


def test_tool_model_config_json_and_config_clip(tmp_path, tiny_vit_ckpt):
    """The CLIP may be given as an open_clip model-config json, on the
    command line or in a config's ``clip`` dict (type='OpenCLIP')."""
    arch = tmp_path / 'voc-tiny-vit.json'
    shutil.copy(osp.join(MODEL_CONFIG_DIR, 'ovd-tiny-vit.json'), arch)
    out = str(tmp_path / 'a.npy')
    _tool().main(['--model-config', str(arch), '--checkpoint', tiny_vit_ckpt,
                  '--names', 'star,key', '--templates', 'single',
                  '--out', out])
    emb, _ = load_class_embeddings(out, expected_classes=['star', 'key'])
    ref = encode_text(build_clip('ovd-tiny-vit', tiny_vit_ckpt),
                      ['star', 'key'], 'single')
    assert np.array_equal(emb, ref.numpy())
    assert json.load(open(tmp_path / 'a.json'))['model'].startswith(
        'voc-tiny-vit:')
    cfg = tmp_path / 'cfg.py'
    cfg.write_text(
        f"clip = dict(type='OpenCLIP', model_config={str(arch)!r}, "
        f"checkpoint={tiny_vit_ckpt!r}, templates='single')\n"
        f"vocabulary = {str(tmp_path / 'b.npy')!r}\n"
        "test_dataloader = dict(dataset=dict(type='CocoDataset', "
        "metainfo=dict(classes=('star', 'key'))))\n")
    _tool().main(['--config', str(cfg)])
    emb_b, names = load_class_embeddings(str(tmp_path / 'b.npy'))
    assert names == ['star', 'key'] and np.array_equal(emb_b, emb)
    clip = build_clip_from_cfg(dict(name='ovd-tiny-vit',
                                    checkpoint=tiny_vit_ckpt,
                                    templates='single'), frozen=False)
    assert clip.name == 'ovd-tiny-vit' and clip.frozen_towers == ()


def test_tool_background_prepends_the_background_class(tmp_path,
                                                       tiny_vit_ckpt):
    """--background (or a config's vocabulary_background = True) makes row 0
    the text embedding of 'background' (DITO Sec. 3.1)."""
    from ovd_ext.vlm.vocabulary import load_background_vocabulary
    out = str(tmp_path / 'bg.npy')
    _tool().main(['--model', 'ovd-tiny-vit', '--checkpoint', tiny_vit_ckpt,
                  '--names', 'star,key', '--templates', 'single',
                  '--background', '--out', out])
    emb, names = load_class_embeddings(out)
    assert names == ['background', 'star', 'key'] and emb.shape == (3, 128)
    ref = encode_text(build_clip('ovd-tiny-vit', tiny_vit_ckpt),
                      ['background', 'star', 'key'], 'single')
    assert np.allclose(emb, ref.numpy(), atol=1e-6)
    bg, rest, classes = load_background_vocabulary(
        out, expected_classes=['star', 'key'])
    assert np.array_equal(bg, emb[0]) and np.array_equal(rest, emb[1:])
    # the config flag does the same, and --background does not add a second
    cfg = tmp_path / 'cfg.py'
    cfg.write_text(
        f"clip = dict(type='OpenCLIP', name='ovd-tiny-vit', "
        f"checkpoint={tiny_vit_ckpt!r}, templates='single')\n"
        f"vocabulary = {str(tmp_path / 'c.npy')!r}\n"
        'vocabulary_background = True\n'
        "test_dataloader = dict(dataset=dict(type='CocoDataset', "
        "metainfo=dict(classes=('star', 'key'))))\n")
    for extra in ([], ['--background']):
        _tool().main(['--config', str(cfg), *extra])
        emb_c, names = load_class_embeddings(str(tmp_path / 'c.npy'))
        assert names == ['background', 'star', 'key']
        assert np.allclose(emb_c, emb, atol=1e-6)
    # without either, no background row
    _tool().main(['--model', 'ovd-tiny-vit', '--checkpoint', tiny_vit_ckpt,
                  '--names', 'star,key', '--templates', 'single',
                  '--out', out])
    assert load_class_embeddings(out)[1] == ['star', 'key']
    with pytest.raises(ValueError, match="has no 'background' class"):
        load_background_vocabulary(out)
