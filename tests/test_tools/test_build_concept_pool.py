"""tools/build_concept_pool.py end to end with a random tiny CLIP: pool
counts json, vocabulary sidecar, and embeddings equal to the prompt ensemble
of each kept concept's synonyms."""
import importlib.util
import json
import os.path as osp

import numpy as np
import pytest
import torch

from ovd_ext.testing import random_clip
from ovd_ext.vlm import encode_text, load_class_embeddings

TOOL = osp.join(osp.dirname(__file__), '..', '..', 'tools',
                'build_concept_pool.py')


def _tool():
    spec = importlib.util.spec_from_file_location('build_concept_pool', TOOL)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture
def inputs(tmp_path):
    caps = ['Two couches and a cup.', 'A sofa, a couch and two cups.',
            'A mug.', 'A lamp.', 'Three sofas.']
    anns = [{'id': i, 'image_id': i // 2, 'caption': c}
            for i, c in enumerate(caps)]
    cap_path = tmp_path / 'captions.json'
    cap_path.write_text(json.dumps({'images': [], 'annotations': anns}))
    txt = tmp_path / 'concepts.txt'
    txt.write_text('sofa/couch\ncup/mug\nlamp\ntable\n')
    clip = random_clip('ovd-tiny-rn')
    ckpt = tmp_path / 'ovd-tiny-rn.pt'
    torch.save(clip.model.state_dict(), ckpt)
    return str(cap_path), str(txt), str(ckpt), clip


def test_tool_end_to_end(tmp_path, inputs, capsys):
    cap_path, txt, ckpt, clip = inputs
    out = str(tmp_path / 'pool' / 'concepts.npy')
    assert _tool().main(['--captions', cap_path, '--candidates', txt,
                         '--min-count', '2', '--model', 'ovd-tiny-rn',
                         '--checkpoint', ckpt, '--templates', 'short',
                         '--out', out]) == 0
    with open(str(tmp_path / 'pool' / 'concepts.counts.json')) as f:
        # ties by name; 'lamp' (1 caption) dropped, 'table' never named
        assert json.load(f) == {'captions': cap_path, 'min_count': 2,
                                'counts': {'cup': 3, 'sofa': 3}}
    emb, classes = load_class_embeddings(out, expected_classes=['cup', 'sofa'])
    expected = encode_text(clip, [['cup', 'mug'], ['sofa', 'couch']],
                           'short').numpy()
    assert emb.shape == expected.shape
    np.testing.assert_allclose(emb, expected, atol=1e-5)
    printed = capsys.readouterr().out
    assert '5 captions of 3 images, 4 candidates, 3 found, 2 kept' in printed
    assert 'top: cup (3), sofa (3)' in printed


def test_tool_empty_pool_fails_before_clip(tmp_path, inputs):
    cap_path, txt, _, _ = inputs
    with pytest.raises(ValueError, match=r'>= 4 captions of .*captions.json'):
        _tool().main(['--captions', cap_path, '--candidates', txt,
                      '--min-count', '4', '--model', 'ovd-tiny-rn',
                      '--checkpoint', str(tmp_path / 'no-such.pt'),
                      '--out', str(tmp_path / 'x.npy')])
    assert not osp.exists(tmp_path / 'x.npy')
