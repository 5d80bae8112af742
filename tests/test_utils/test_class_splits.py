"""The one base/novel resolver: names, LVIS rare = novel, 'all' / 'novel' /
'base' / comma lists, with errors naming the json."""
import pytest

from ovd_ext.utils.class_splits import (frequency_groups, novel_classes,
                                        rare_category_ids, rare_classes,
                                        resolve_classes, split_classes)

LVIS = [{'id': 3, 'name': 'cow', 'frequency': 'r'},
        {'id': 1, 'name': 'cat', 'frequency': 'f'},
        {'id': 2, 'name': 'dog', 'frequency': 'c'},
        {'id': 4, 'name': 'yak', 'frequency': 'r'}]
COCO = [{'id': i + 1, 'name': n} for i, n in enumerate(['cat', 'dog', 'cow'])]


def test_lvis_rare_are_novel():
    assert rare_classes(LVIS) == ['cow', 'yak']          # by category id
    assert rare_category_ids(LVIS) == [3, 4]
    groups = frequency_groups(LVIS)
    assert [c['name'] for c in groups['c']] == ['dog']
    assert novel_classes(['cat', 'dog', 'cow', 'yak'],
                         categories=LVIS) == ['cow', 'yak']
    with pytest.raises(ValueError, match=r"lvis.json: category id 9 \('x'\) "
                       "has frequency 'q'"):
        frequency_groups(LVIS + [{'id': 9, 'name': 'x', 'frequency': 'q'}],
                         'lvis.json')
    with pytest.raises(ValueError, match='coco.json has no LVIS "frequency"'):
        rare_classes(COCO, 'coco.json')
    with pytest.raises(ValueError, match='coco.json has no LVIS "frequency"'):
        rare_category_ids(COCO, 'coco.json')


def test_named_split():
    classes = ['cat', 'dog', 'cow']
    assert split_classes(classes, ['cow', 'cat']) == (['dog'], ['cat', 'cow'])
    assert novel_classes(classes, ['cow']) == ['cow']
    with pytest.raises(ValueError, match=r"class\(es\) \['sofa'\]"):
        split_classes(classes, ['sofa'], 'cfg')
    with pytest.raises(ValueError, match='no novel classes given'):
        novel_classes(classes)


def test_resolve_selections():
    assert resolve_classes(COCO, 'all') == ['cat', 'dog', 'cow']
    assert resolve_classes(LVIS, 'novel') == ['cow', 'yak']
    assert resolve_classes(LVIS, 'rare') == ['cow', 'yak']
    assert resolve_classes(LVIS, 'base') == ['cat', 'dog']
    assert resolve_classes(COCO, 'novel', novel=['cow']) == ['cow']
    assert resolve_classes(COCO, 'base', novel=['cow']) == ['cat', 'dog']
    assert resolve_classes(COCO, ' cow, cat ,') == ['cow', 'cat']
    assert resolve_classes(COCO, ('dog',)) == ['dog']
    with pytest.raises(ValueError, match='coco.json has no LVIS'):
        resolve_classes(COCO, 'novel', where='coco.json')
    with pytest.raises(ValueError, match=r"coco.json: class\(es\) \['sofa'\]"):
        resolve_classes(COCO, 'cat,sofa', where='coco.json')
    with pytest.raises(ValueError, match='empty class selection'):
        resolve_classes(COCO, ' , ')
