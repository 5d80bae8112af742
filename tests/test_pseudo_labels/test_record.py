"""The one pseudo-label record (ovd_ext.pseudo_labels.record): rows, the json
schema with its format version, and one clear error per malformed record."""
import json
from collections import Counter

import pytest

from ovd_ext.pseudo_labels.record import (FORMAT_VERSION,
                                          PseudoLabelFormatError,
                                          check_annotations, check_record,
                                          load_pseudo_labels, make_rows,
                                          read_pseudo_label_file)

CATS = [{'id': 4, 'name': 'star'}, {'id': 8, 'name': 'ring'}]
GOOD = {'image_id': 1, 'category_id': 4, 'bbox': [1, 2, 3, 4], 'score': 0.5}


def test_rows_round_boxes_and_scores_and_carry_masks_and_extras():
    rows = make_rows([(1.004, 2.0, 11.0, 6.3333)], [4], [0.123456789])
    assert rows == [{'bbox': [1.0, 2.0, 10.0, 4.33], 'category_id': 4,
                     'score': 0.12346}]
    rle = {'size': [8, 8], 'counts': 'PPYo0'}
    rows = make_rows([(0, 0, 2, 2), (1, 1, 3, 3)], [4, 8], [0.9, 0.8],
                     masks=[rle, rle], extras={'word_id': [3, 7]})
    assert [r['segmentation'] for r in rows] == [rle, rle]
    assert [r['word_id'] for r in rows] == [3, 7]
    assert all(check_record(r, 'x', i) is None for i, r in enumerate(rows))


@pytest.mark.parametrize('record, field, problem', [
    ({'category_id': 4, 'bbox': [1, 2, 3, 4]}, 'score', 'missing'),
    (dict(GOOD, bbox=[1, 2, 3]), 'bbox', 'must be 4 numbers'),
    (dict(GOOD, bbox='1,2,3,4'), 'bbox', 'must be 4 numbers'),
    (dict(GOOD, bbox=[1, 2, True, 4]), 'bbox', 'must be 4 numbers'),
    (dict(GOOD, score='high'), 'score', 'must be a number'),
    (dict(GOOD, score=None), 'score', 'must be a number'),
    (dict(GOOD, category_id=4.5), 'category_id', 'integer id'),
    (dict(GOOD, category_id=5), 'category_id', 'not in the file'),
    (dict(GOOD, image_id='a'), 'image_id', 'integer id'),
    (dict(GOOD, segmentation={'size': [4], 'counts': 'x'}), 'segmentation',
     'size'),
    (dict(GOOD, segmentation={'size': [4, 4], 'counts': 3}), 'segmentation',
     'counts'),
    (dict(GOOD, segmentation=[[1, 2, 3]]), 'segmentation', 'polygons'),
])
def test_malformed_record_names_file_index_and_field(record, field, problem):
    with pytest.raises(PseudoLabelFormatError) as e:
        check_record(record, 'pl.json', 7, category_ids={4, 8})
    msg = str(e.value)
    assert msg.startswith(f"pl.json: record #7 field '{field}'")
    assert problem in msg
    assert (e.value.path, e.value.index, e.value.field) == ('pl.json', 7,
                                                            field)


def test_not_a_record():
    with pytest.raises(PseudoLabelFormatError, match=r'pl.json: record #0: '
                       'expected an object'):
        check_record([1, 2, 3, 4], 'pl.json', 0)


def test_nonfinite_and_degenerate_records_are_dropped_and_counted():
    anns = [GOOD, dict(GOOD, score=float('nan')),
            dict(GOOD, score=float('-inf')), dict(GOOD, bbox=[0, 0, 0, 5]),
            dict(GOOD, bbox=[0, 0, 5, -1]),
            dict(GOOD, bbox=[0, float('inf'), 5, 5]),
            dict(GOOD, segmentation={'size': [4, 4], 'counts': [0, 16]}),
            dict(GOOD, segmentation=[[0, 0, 4, 0, 4, 4]])]
    kept, dropped = check_annotations(anns, 'pl.json')
    assert kept == [anns[0], anns[6], anns[7]]
    assert dropped == Counter(nonfinite_score=2, degenerate_bbox=2,
                              nonfinite_bbox=1)


def _write(tmp_path, obj, text=None):
    path = tmp_path / 'pl.json'
    path.write_text(text if text is not None else json.dumps(obj))
    return str(path)


def test_load_checks_the_file(tmp_path):
    data = {'info': {'format_version': FORMAT_VERSION}, 'images': [{'id': 1}],
            'categories': CATS,
            'annotations': [GOOD, dict(GOOD, score=float('nan'))]}
    pl, dropped = load_pseudo_labels(_write(tmp_path, data))
    assert pl['annotations'] == [GOOD] and dropped == {'nonfinite_score': 1}
    # files of older code (no info) read as version 1
    pl, _ = load_pseudo_labels(_write(tmp_path, dict(data, info={})))
    assert len(pl['annotations']) == 1
    cases = [
        ('{"annotations": [', r'pl.json: not valid json \(.* line 1'),
        (json.dumps([GOOD]), 'pl.json: expected a COCO-style object'),
        (json.dumps(dict(data, info={'format_version': 99})),
         "field 'info.format_version': 99 is newer"),
        (json.dumps({'annotations': []}), "field 'categories': missing"),
        (json.dumps(dict(data, categories=[{'id': 'a', 'name': 'x'}])),
         r"field 'categories\[0\]'"),
        (json.dumps(dict(data, images=[{'file_name': 'a'}])),
         "field 'images'"),
        (json.dumps(dict(data, annotations={'1': GOOD})),
         "field 'annotations': must be a list"),
        (json.dumps(dict(data, annotations=[GOOD, {'image_id': 1}])),
         r"record #1 field 'bbox': missing"),
    ]
    for text, message in cases:
        with pytest.raises(PseudoLabelFormatError, match=message):
            load_pseudo_labels(_write(tmp_path, None, text))
    with pytest.raises(FileNotFoundError, match='pseudo-label file .* not '
                       'found'):
        read_pseudo_label_file(str(tmp_path / 'none.json'))
    (tmp_path / 'bin.json').write_bytes(b'\xff\xfe\x00garbage')
    with pytest.raises(PseudoLabelFormatError, match='bin.json'):
        read_pseudo_label_file(str(tmp_path / 'bin.json'))
