"""Seeded SSOD splits (VL-PLM Sec. 4.2)."""
import json
import os.path as osp

from ovd_ext.pseudo_labels.vl_plm import make_ssod_splits, ssod_split


def _coco(n=200):
    return {'images': [{'id': i + 1, 'file_name': f'{i}.jpg'}
                       for i in range(n)],
            'annotations': [{'id': i + 1, 'image_id': i // 2 + 1,
                             'category_id': 1, 'bbox': [0, 0, 1, 1]}
                            for i in range(2 * n)],
            'categories': [{'id': 1, 'name': 'a'}], 'info': {'v': 1}}


def test_fraction_disjoint_and_seeded():
    coco = _coco()
    lab, unl = ssod_split(coco, 10, seed=1)
    li = {im['id'] for im in lab['images']}
    ui = {im['id'] for im in unl['images']}
    assert len(li) == 20 and len(ui) == 180 and not li & ui
    assert li | ui == set(range(1, 201))
    assert {a['image_id'] for a in lab['annotations']} == li
    assert len(lab['annotations']) == 40 and unl['annotations'] == []
    assert lab['categories'] == coco['categories'] and lab['info'] == {'v': 1}
    again, _ = ssod_split(coco, 10, seed=1)
    assert again == lab
    other, _ = ssod_split(coco, 10, seed=2)
    assert {im['id'] for im in other['images']} != li
    assert len(ssod_split(coco, 1, 1)[0]['images']) == 2
    assert len(ssod_split(_coco(10), 1, 1)[0]['images']) == 1   # >= 1


def test_files_written_with_stac_names(tmp_path):
    src = tmp_path / 'instances_train2017.json'
    src.write_text(json.dumps(_coco()))
    paths = make_ssod_splits(str(src), str(tmp_path / 'semi'), (1, 2, 5, 10),
                             (1,))
    names = [osp.basename(p) for p in paths]
    assert names[:2] == ['instances_train2017.1@1.json',
                         'instances_train2017.1@1-unlabeled.json']
    assert 'instances_train2017.1@10.json' in names
    lab = json.load(open(tmp_path / 'semi' / 'instances_train2017.1@5.json'))
    assert len(lab['images']) == 10


def test_bad_input_is_named(tmp_path):
    import pytest
    src = tmp_path / 'broken.json'
    src.write_text('{"images": [')
    with pytest.raises(ValueError, match='broken.json.*not valid json'):
        make_ssod_splits(str(src), str(tmp_path / 'semi'))
    src.write_text('[]')
    with pytest.raises(ValueError, match='broken.json: expected a COCO'):
        make_ssod_splits(str(src), str(tmp_path / 'semi'))
    with pytest.raises(ValueError, match=r'percent must be in \(0, 100\)'):
        ssod_split(_coco(), 100, 1)
