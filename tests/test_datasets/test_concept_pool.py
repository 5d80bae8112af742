"""RegionCLIP concept pool (Sec. 3.1 / 4 (datasets)): lemmatised candidate
matching in captions, once per caption, threshold, candidate readers, clear
errors."""
import json

import pytest

from ovd_ext.datasets.concept_pool import (Candidate, build_concept_pool,
                                           candidates_from_json,
                                           candidates_from_list,
                                           candidates_from_text,
                                           count_concepts, counts_path,
                                           load_candidates, load_captions,
                                           pool_vocabulary, save_pool_counts)

CAPTIONS = {
    1: ['Two hearts and a mouse.',
        'A heart, another heart and a traffic light.'],
    2: ['Three mice near the traffic lights.', 'A light on a starfish.'],
}


def _captions_json(tmp_path, captions=CAPTIONS, name='caps.json'):
    anns, k = [], 0
    for img, caps in captions.items():
        for cap in caps:
            k += 1
            anns.append({'id': k, 'image_id': img, 'caption': cap})
    path = tmp_path / name
    path.write_text(json.dumps({'images': [{'id': i} for i in captions],
                                'annotations': anns}))
    return str(path)


def test_load_captions(tmp_path):
    assert load_captions(_captions_json(tmp_path)) == CAPTIONS


@pytest.mark.parametrize('content,exc,match', [
    (None, FileNotFoundError, 'captions file .*missing.json not found'),
    ('{not json', ValueError, 'is not json'),
    ('{"images": []}', ValueError, 'no "annotations" list'),
    ('{"annotations": [{"image_id": 1, "caption": "a"}, {"image_id": 2}]}',
     ValueError, 'annotation 1 has no string "caption"'),
    ('{"annotations": [{"caption": "a"}]}', ValueError,
     'annotation 0 has no "image_id"'),
    ('{"annotations": []}', ValueError, 'has no captions'),
])
def test_load_captions_errors(tmp_path, content, exc, match):
    path = tmp_path / 'missing.json'
    if content is not None:
        path.write_text(content)
    with pytest.raises(exc, match=match) as info:
        load_captions(str(path))
    assert 'missing.json' in str(info.value)


def test_plural_multiword_once_per_caption():
    cands = candidates_from_list(['heart', 'mouse', 'traffic light',
                                  'light', 'star', 'fish'])
    counts = count_concepts(CAPTIONS, cands)
    # hearts -> heart, mice -> mouse, traffic lights -> traffic light;
    # 'heart' twice in one caption counts once; the 'light' inside
    # 'traffic light' is not counted; 'starfish' is neither star nor fish
    assert counts == {'heart': 2, 'mouse': 2, 'traffic light': 2, 'light': 1}
    # the same from plain strings (an iterable of captions)
    flat = [c for caps in CAPTIONS.values() for c in caps]
    assert count_concepts(flat, cands) == counts
    # a word with two noun lemmas matches either (leaves -> leave / leaf)
    assert count_concepts(['autumn leaves', 'a leaf'],
                          candidates_from_list(['leaf'])) == {'leaf': 2}


def test_threshold_and_order(tmp_path):
    path = _captions_json(tmp_path)
    cands = ['light', 'traffic light', 'mouse', 'heart']
    assert build_concept_pool(path, cands, min_count=2) == [
        ('heart', 2), ('mouse', 2), ('traffic light', 2)]
    assert build_concept_pool(path, cands, min_count=1)[-1] == ('light', 1)
    with pytest.raises(ValueError) as info:
        build_concept_pool(path, cands, min_count=3)
    msg = str(info.value)
    assert 'caps.json' in msg and '>= 3' in msg
    assert 'heart: 2, mouse: 2, traffic light: 2, light: 1' in msg
    with pytest.raises(ValueError, match='none found'):
        build_concept_pool(path, ['zebra'], min_count=1)
    with pytest.raises(ValueError, match='min_count must be >= 1'):
        build_concept_pool(path, cands, min_count=0)


def test_lvis_json_synonyms_and_parentheses(tmp_path):
    cats = [{'id': 3, 'name': 'bow_(weapon)',
             'synonyms': ['bow_(weapon)', 'longbow']},
            {'id': 1, 'name': 'aerosol_can',
             'synonyms': ['aerosol_can', 'spray_can']},
            {'id': 2, 'name': 'traffic_light', 'synonyms': ['traffic_light']}]
    path = tmp_path / 'lvis.json'
    path.write_text(json.dumps({'categories': cats}))
    cands = candidates_from_json(str(path))
    assert cands == [Candidate('aerosol can', ('aerosol can', 'spray can')),
                     Candidate('traffic light', ('traffic light',)),
                     Candidate('bow (weapon)', ('bow (weapon)', 'longbow'))]
    assert cands[2].match_forms() == ['bow', 'longbow']
    caps = ['Two longbows and a bow.', 'Spray cans and an aerosol can.',
            'A traffic light.', 'Traffic lights over a bow.']
    assert count_concepts(caps, cands) == {
        'bow (weapon)': 2, 'aerosol can': 1, 'traffic light': 2}
    no_syn = load_candidates(str(path), use_synonyms=False)
    assert count_concepts(caps, no_syn) == {
        'bow (weapon)': 2, 'aerosol can': 1, 'traffic light': 2}
    assert count_concepts(['a longbow'], no_syn) == {}
    voc = pool_vocabulary([('bow (weapon)', 2)], cands)
    assert voc.names == ['bow (weapon)']
    assert voc.synonyms == [['bow (weapon)', 'longbow']]


def test_text_candidates_with_synonyms(tmp_path):
    txt = tmp_path / 'concepts.txt'
    txt.write_text('# furniture\nsofa/couch\n\ntraffic_light\nt-shirt\n')
    cands = candidates_from_text(str(txt))
    assert cands == [Candidate('sofa', ('sofa', 'couch')),
                     Candidate('traffic light', ('traffic light',)),
                     Candidate('t-shirt', ('t-shirt',))]
    assert load_candidates(str(txt)) == cands
    caps = ['Two couches.', 'A sofa and a couch.', 'Red T-shirts',
            'a t shirt near a traffic light']
    assert count_concepts(caps, cands) == {'sofa': 2, 't-shirt': 2,
                                           'traffic light': 1}
    dup = tmp_path / 'dup.txt'
    dup.write_text('sofa\nsofa/couch\n')
    with pytest.raises(ValueError, match=r"dup.txt repeat names: \['sofa'\]"):
        candidates_from_text(str(dup))


def test_save_counts(tmp_path):
    out = str(tmp_path / 'pool.npy')
    assert counts_path(out) == str(tmp_path / 'pool.counts.json')
    save_pool_counts(counts_path(out), 'caps.json', 2,
                     [('heart', 2), ('mouse', 2)])
    with open(counts_path(out)) as f:
        assert json.load(f) == {'captions': 'caps.json', 'min_count': 2,
                                'counts': {'heart': 2, 'mouse': 2}}
