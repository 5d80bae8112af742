"""CaptionNouns: XPM's caption object nouns O_c (Sec. 3.2.2) found by
vocabulary matching (lemmatised plurals, longest compound first, synonyms
mapped to their entry), shipped noun lists and the WordNet switch."""
import json

import pytest

from ovd_ext.datasets.caption_nouns import (CaptionNouns, load_nouns,
                                            shipped_nouns, wordnet_available)

VOCAB = ['heart', 'traffic light', 'light', ['ring', 'donut'], 'star',
         'mouse']


@pytest.fixture(scope='module')
def nouns():
    return CaptionNouns(VOCAB, wordnet=False)


def test_names_are_the_entries_in_vocabulary_order(nouns):
    # a synonym list is one entry, named by its first form
    assert nouns.names == ['heart', 'traffic light', 'light', 'ring', 'star',
                           'mouse']
    assert nouns.used_wordnet is False and nouns.dropped_by_wordnet == []


@pytest.mark.parametrize('caption, expected', [
    ('two hearts', ['heart']),            # regular plural
    ('Three MICE!', ['mouse']),           # irregular plural, case, punctuation
    ('a heart', ['heart']),
])
def test_plurals_are_lemmatised(nouns, caption, expected):
    assert nouns(caption) == expected


def test_compound_is_matched_longest_first(nouns):
    # 'traffic lights' is the compound only: its 'light' is not counted again
    assert nouns('two traffic lights') == ['traffic light']
    # a lone 'light' is the short entry
    assert nouns('a light') == ['light']
    # both when the caption names both
    assert nouns('a traffic light and a light') == ['traffic light', 'light']


def test_synonym_maps_to_its_entry(nouns):
    assert nouns('a donut') == ['ring']
    assert nouns('two donuts and a ring') == ['ring']     # counted once


def test_words_outside_the_vocabulary_are_ignored(nouns):
    assert nouns('a yellow square on a noisy background') == []
    # word boundaries: 'starfish' / 'lighthouse' are not 'star' / 'light'
    assert nouns('a starfish near the lighthouse') == []
    assert nouns('') == []


def test_order_is_vocabulary_order_not_caption_order(nouns):
    assert nouns('a mouse, a star, a donut and a heart') == [
        'heart', 'ring', 'star', 'mouse']


def test_captions_of_one_image_are_merged(nouns):
    caps = ['A yellow star on the right.', 'Two hearts and a star.',
            'A mouse under a traffic light.']
    assert nouns(caps) == ['heart', 'traffic light', 'star', 'mouse']
    assert nouns(caps[:1]) == nouns(caps[0]) == ['star']
    assert nouns([]) == []


def test_json_and_text_vocabularies(tmp_path):
    # LVIS-style json: synonyms are surface forms, '_' is a space
    cats = [dict(id=2, name='ring', synonyms=['ring', 'donut']),
            dict(id=1, name='traffic_light', synonyms=['traffic_light'])]
    path = tmp_path / 'cats.json'
    path.write_text(json.dumps(dict(categories=cats)))
    n = CaptionNouns(str(path), wordnet=False)
    assert n.names == ['traffic light', 'ring']             # sorted by id
    assert n('donuts beside traffic lights') == ['traffic light', 'ring']
    # text file: one entry per line, synonyms separated by '/'
    txt = tmp_path / 'nouns.txt'
    txt.write_text('ring/donut\nheart\n')
    n = CaptionNouns(str(txt), wordnet=False)
    assert n.names == ['ring', 'heart']
    assert n('a donut and two hearts') == ['ring', 'heart']


def test_shipped_coco_list():
    names = shipped_nouns('coco')
    assert len(names) == 80
    assert 'traffic light' in names and 'traffic_light' not in names
    n = CaptionNouns('coco', wordnet=False)
    assert n.names == names
    # COCO order: 'traffic light' (10th class) before 'dog' (17th)
    assert n('a dog and two traffic lights') == ['traffic light', 'dog']


def _base(name):
    return name.split(' (')[0]


def test_shipped_lists_joined_do_not_repeat_an_entry():
    lvis = shipped_nouns('lvis')
    assert len(lvis) == 1203 and 'car (automobile)' in lvis
    coco = shipped_nouns('coco')
    names = [c.name for c in load_nouns('lvis+coco')]
    assert len(names) == len(set(names))
    # COCO's 'car' is LVIS's 'car (automobile)' without the parenthesis
    assert 'car' not in names and names.count('car (automobile)') == 1
    # no two entries share a name without its parenthesised part
    bases = [_base(n) for n in names]
    assert len(bases) == len(set(bases))
    # LVIS entries first, in LVIS order; then the COCO classes LVIS lacks
    lvis_kept = [n for n in names if n in lvis]
    assert names[:len(lvis_kept)] == lvis_kept
    assert lvis_kept == [n for n in lvis if n in lvis_kept]
    added = names[len(lvis_kept):]
    assert added == [c for c in coco if _base(c) not in set(map(_base, lvis))]
    assert 'hot dog' in added and 'traffic light' not in added
    n = CaptionNouns('lvis+coco', wordnet=False)
    assert n('a red car') == ['car (automobile)']
    # the other way round COCO's name is kept and LVIS's left out
    names = [c.name for c in load_nouns('coco+lvis')]
    assert 'car' in names and 'car (automobile)' not in names


def test_unknown_shipped_name_is_a_key_error():
    with pytest.raises(KeyError, match='imagenet'):
        shipped_nouns('imagenet')


def test_unknown_part_of_a_joined_shipped_name_is_a_key_error():
    with pytest.raises(KeyError, match='imagenet'):
        CaptionNouns('coco+imagenet', wordnet=False)


def test_bad_wordnet_setting_and_empty_vocabulary():
    with pytest.raises(ValueError, match='wordnet must be'):
        CaptionNouns(['star'], wordnet='yes')
    with pytest.raises(ValueError):
        CaptionNouns([], wordnet=False)


@pytest.mark.skipif(wordnet_available(),
                    reason='nltk WordNet data is installed here')
def test_wordnet_required_without_its_data_is_a_runtime_error():
    with pytest.raises(RuntimeError, match='nltk'):
        CaptionNouns(['star'], wordnet=True)
    # 'auto' falls back to the plain vocabulary
    n = CaptionNouns(['star'], wordnet='auto')
    assert n.used_wordnet is False and n('two stars') == ['star']
