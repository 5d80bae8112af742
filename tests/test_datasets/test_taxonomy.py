"""Taxonomy map M (RichSem Eq. 6): by name, manual file, text embeddings."""
import json

import numpy as np
import pytest

from ovd_ext.datasets.taxonomy import (build_taxonomy_map, check_targets,
                                       load_taxonomy_file, map_by_name,
                                       map_by_text_embeddings)
from ovd_ext.vlm.vocabulary import save_class_embeddings

CLASSES = ('traffic light', 'dog', 'Tree')


def _write(path, obj):
    path.write_text(json.dumps(obj))
    return str(path)


def _unit(*rows):
    emb = np.asarray(rows, np.float32)
    return emb / np.linalg.norm(emb, axis=1, keepdims=True)


def test_map_by_name_exact_and_case_underscore_insensitive():
    out = map_by_name(['dog', 'traffic_light', 'TREE ', 'Dog', 'cat'],
                      CLASSES)
    assert out == {'dog': 'dog', 'traffic_light': 'traffic light',
                   'TREE ': 'Tree', 'Dog': 'dog'}
    assert 'cat' not in out
    assert build_taxonomy_map(None, ['Traffic_Light', 'cat'], CLASSES) == {
        'Traffic_Light': 'traffic light'}


def test_manual_file_maps_an_extra_name(tmp_path):
    path = _write(tmp_path / 'm.json', {'puppy': 'dog', 'oak': 'Tree',
                                        'unused_extra': 'dog'})
    assert load_taxonomy_file(path)['puppy'] == 'dog'
    # exact detector names map to themselves; the rest through the file
    out = build_taxonomy_map(path, ['puppy', 'oak', 'dog', 'cat'], CLASSES)
    assert out == {'puppy': 'dog', 'oak': 'Tree', 'dog': 'dog'}
    assert build_taxonomy_map(dict(type='file', path=path), ['oak'],
                              CLASSES) == {'oak': 'Tree'}
    # names the file lacks still map by name; the file wins over by-name
    path = _write(tmp_path / 'm2.json', {'Dog': 'Tree'})
    assert build_taxonomy_map(path, ['Dog', 'TREE', 'cat'], CLASSES) == {
        'Dog': 'Tree', 'TREE': 'Tree'}


def test_manual_file_with_unknown_detector_class(tmp_path):
    path = _write(tmp_path / 'bad.json', {'puppy': 'dog', 'kitten': 'cat',
                                          'lorry': 'truck'})
    with pytest.raises(ValueError) as err:
        build_taxonomy_map(path, ['puppy'], CLASSES)
    msg = str(err.value)
    assert 'bad.json' in msg and "'kitten' -> 'cat'" in msg
    assert "'lorry' -> 'truck'" in msg and '2 of 3 entries' in msg
    with pytest.raises(ValueError, match="where.json.*'a' -> 'b'"):
        check_targets({'a': 'b'}, CLASSES, 'where.json')
    check_targets({'a': 'dog'}, CLASSES, 'ok.json')


def test_manual_file_must_be_a_string_dict(tmp_path):
    with pytest.raises(ValueError, match='list.json.*object'):
        load_taxonomy_file(_write(tmp_path / 'list.json', ['dog']))
    with pytest.raises(ValueError, match="num.json.*'puppy'.*3"):
        load_taxonomy_file(_write(tmp_path / 'num.json', {'puppy': 3}))
    with pytest.raises(FileNotFoundError, match='nope.json'):
        load_taxonomy_file(str(tmp_path / 'nope.json'))
    with pytest.raises(ValueError, match='unknown taxonomy'):
        build_taxonomy_map(dict(type='wordnet'), ['puppy'], CLASSES)


def _vocabularies(tmp_path, det_dim=3):
    det = str(tmp_path / 'det.npy')
    save_class_embeddings(det, np.eye(3, det_dim, dtype=np.float32),
                          ['traffic light', 'dog', 'Tree'], model='hand',
                          prompts='none')
    extra = str(tmp_path / 'extra.npy')
    # puppy: cos 0.98 with dog; oak: cos 0.95 with Tree; rock: cos 0.6 max
    save_class_embeddings(
        extra, _unit([0.0, 1.0, 0.2], [0.0, 0.33, 1.0], [0.6, 0.5, 0.62]),
        ['puppy', 'oak', 'rock'], model='hand', prompts='none')
    return extra, det


def test_text_embeddings_nearest_above_threshold(tmp_path):
    extra, det = _vocabularies(tmp_path)
    assert map_by_text_embeddings(extra, det) == {'puppy': 'dog',
                                                  'oak': 'Tree'}
    # oak's cosine with Tree is 0.95: a stricter threshold leaves it out
    assert map_by_text_embeddings(extra, det, threshold=0.97) == {
        'puppy': 'dog'}
    # rock's best (Tree, cos ~0.62) counts only with a low threshold
    assert map_by_text_embeddings(extra, det, threshold=0.5)['rock'] == 'Tree'
    # candidates restricted to detector classes
    assert map_by_text_embeddings(extra, det, classes=['dog']) == {
        'puppy': 'dog'}
    spec = dict(type='text', extra_vocabulary=extra, vocabulary=det)
    assert build_taxonomy_map(spec, ['puppy', 'oak', 'rock', 'dog'],
                              CLASSES) == {'puppy': 'dog', 'oak': 'Tree',
                                           'dog': 'dog'}
    with pytest.raises(ValueError, match='extra.npy.*cat'):
        build_taxonomy_map(spec, ['puppy', 'cat'], CLASSES)


def test_text_embeddings_dimension_mismatch(tmp_path):
    extra, det = _vocabularies(tmp_path, det_dim=4)
    with pytest.raises(ValueError) as err:
        map_by_text_embeddings(extra, det)
    msg = str(err.value)
    assert 'extra.npy' in msg and 'det.npy' in msg
    assert 'D=3' in msg and 'D=4' in msg
