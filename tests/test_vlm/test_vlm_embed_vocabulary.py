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
