"""ImageLabelDataset: image-level labels as whole-image boxes (RichSem)."""
import json
import logging
import os.path as osp
from collections import Counter

import cv2
import numpy as np
import pytest
from mmengine.dataset import ClassBalancedDataset

from ovd_ext.datasets import ImageLabelDataset
from ovd_ext.testing import make_shapes

SHAPES = ('circle', 'square', 'triangle', 'star', 'hexagon', 'cross', 'heart',
          'ring', 'arrow', 'crescent', 'diamond', 'ellipse', 'house', 'tree',
          'car', 'umbrella', 'key', 'mushroom', 'fish', 'cup')
META = dict(classes=('cat', 'dog', 'cow'))
CATS = [dict(id=10, name='cat'), dict(id=20, name='Dog'),
        dict(id=30, name='zebra'), dict(id=40, name='puppy')]
SIZES = {1: (64, 48), 2: (40, 30), 3: (50, 70), 4: (32, 32)}  # id: (w, h)


def write_data(tmp_path, labels, style='detic', images=True):
    """Json with ``labels`` {image id: [category ids]} in Detic
    (``pos_category_ids``) or COCO (annotations without bbox) style."""
    imgs, anns = [], []
    for img_id, (w, h) in SIZES.items():
        name = f'{img_id:03d}.png'
        if images:
            rng = np.random.default_rng(img_id)
            cv2.imwrite(str(tmp_path / name),
                        rng.integers(0, 255, (h, w, 3), dtype=np.uint8))
        im = dict(id=img_id, file_name=name, width=w, height=h)
        cats = labels.get(img_id, [])
        if style == 'detic':
            im['pos_category_ids'] = cats
        else:
            anns += [dict(id=len(anns) + 1, image_id=img_id, category_id=c)
                     for c in cats]
        imgs.append(im)
    path = tmp_path / f'{style}.json'
    path.write_text(json.dumps(dict(images=imgs, annotations=anns,
                                    categories=CATS)))
    return str(path)


def build(ann_file, tmp_path, **kwargs):
    kwargs.setdefault('metainfo', META)
    return ImageLabelDataset(ann_file=ann_file,
                             data_prefix=dict(img=str(tmp_path)),
                             pipeline=[], **kwargs)


LABELS = {1: [10, 20], 2: [20], 3: [30], 4: []}


@pytest.mark.parametrize('style', ['detic', 'coco'])
def test_whole_image_instances_and_mapped_labels(tmp_path, style):
    ds = build(write_data(tmp_path, LABELS, style), tmp_path)
    # image 3 has only 'zebra' (unmapped), image 4 no label: both skipped
    assert len(ds) == 2
    info = ds.get_data_info(0)
    assert info['img_id'] == 1 and (info['width'], info['height']) == (64, 48)
    assert info['img_path'] == osp.join(str(tmp_path), '001.png')
    assert info['image_label'] is True
    assert info['instances'] == [
        dict(bbox=[0.0, 0.0, 64.0, 48.0], bbox_label=0, ignore_flag=0),
        dict(bbox=[0.0, 0.0, 64.0, 48.0], bbox_label=1, ignore_flag=0)]
    # 'Dog' maps to 'dog' by name (case-insensitive)
    assert [i['bbox_label'] for i in ds.get_data_info(1)['instances']] == [1]
    assert ds.get_data_info(1)['instances'][0]['bbox'] == [0., 0., 40., 30.]
    assert ds.unmapped_counts == Counter({'zebra': 1})
    assert ds.num_no_label == 1 and ds.num_only_unmapped == 1
    assert ds.get_cat_ids(0) == [0, 1]


def test_detic_and_coco_labels_united_and_deduplicated(tmp_path):
    path = write_data(tmp_path, {1: [20, 10], 2: [20]}, 'detic')
    data = json.loads(open(path).read())
    data['annotations'] = [dict(id=1, image_id=1, category_id=10),
                           dict(id=2, image_id=1, category_id=30),
                           dict(id=3, image_id=2, category_id=20)]
    open(path, 'w').write(json.dumps(data))
    ds = build(path, tmp_path)
    assert [i['bbox_label'] for i in ds.get_data_info(0)['instances']] == [
        1, 0]
    assert [i['bbox_label'] for i in ds.get_data_info(1)['instances']] == [1]
    assert ds.unmapped_counts == Counter({'zebra': 1})
    # two extra classes mapped to one detector class: one instance
    tax = tmp_path / 'tax.json'
    tax.write_text(json.dumps({'puppy': 'dog'}))
    ds = build(write_data(tmp_path, {1: [20, 40]}, 'detic'), tmp_path,
               taxonomy=str(tax))
    assert [i['bbox_label'] for i in ds.get_data_info(0)['instances']] == [1]


def test_unmapped_soft_keeps_with_minus_one(tmp_path):
    ds = build(write_data(tmp_path, LABELS), tmp_path, unmapped='soft')
    assert [d['img_id'] for d in ds.load_data_list()] == [1, 2, 3]
    info = ds.get_data_info(2)
    assert info['instances'] == [dict(bbox=[0.0, 0.0, 50.0, 70.0],
                                      bbox_label=-1, ignore_flag=0)]
    assert ds.get_cat_ids(2) == []
    assert ds.unmapped_counts == Counter({'zebra': 1})


def test_unmapped_error_names_label_image_and_file(tmp_path):
    path = write_data(tmp_path, LABELS)
    with pytest.raises(ValueError, match=r"detic.json.*image 3.*'zebra'"):
        build(path, tmp_path, unmapped='error')
    with pytest.raises(ValueError, match='unmapped must be'):
        build(path, tmp_path, unmapped='drop')


def test_unmapped_logged_once_with_counts(tmp_path, monkeypatch):
    import ovd_ext.datasets.image_label_dataset as mod
    calls = []
    monkeypatch.setattr(mod, 'print_log',
                        lambda msg, **kw: calls.append((msg, kw)))
    ds = build(write_data(tmp_path, {1: [10, 30], 2: [30], 3: [40]}),
               tmp_path)
    assert len(calls) == 1
    msg, kw = calls[0]
    assert kw == dict(logger='current', level=logging.WARNING)
    assert 'zebra (2)' in msg and 'puppy (1)' in msg and 'detic.json' in msg
    assert ds.unmapped_counts == Counter({'zebra': 2, 'puppy': 1})
    # more than 20 unmapped names: 20 listed, then 'and N more'
    many = [dict(id=100 + i, name=f'extra{i}') for i in range(25)]
    path = tmp_path / 'many.json'
    path.write_text(json.dumps(dict(
        images=[dict(id=1, file_name='001.png', width=64, height=48,
                     pos_category_ids=[10] + [c['id'] for c in many])],
        categories=CATS + many)))
    calls.clear()
    build(str(path), tmp_path)
    assert len(calls) == 1 and 'and 5 more' in calls[0][0]
    assert 'extra19 (1)' in calls[0][0] and 'extra20 (1)' not in calls[0][0]


def test_taxonomy_file_maps_extra_names(tmp_path):
    tax = tmp_path / 'tax.json'
    tax.write_text(json.dumps({'zebra': 'cow'}))
    ds = build(write_data(tmp_path, LABELS), tmp_path, taxonomy=str(tax))
    assert len(ds) == 3 and not ds.unmapped_counts
    assert ds.get_cat_ids(2) == [2]


def test_unlabeled_mode_gives_minus_one(tmp_path):
    ds = build(write_data(tmp_path, LABELS), tmp_path, unlabeled=True,
               metainfo=dict(classes=()))
    assert len(ds) == 4
    for i in range(4):
        inst = ds.get_data_info(i)['instances']
        assert [x['bbox_label'] for x in inst] == [-1]
        assert ds.get_cat_ids(i) == []
    assert ds.get_data_info(2)['instances'][0]['bbox'] == [0., 0., 50., 70.]


def test_empty_set_error_and_max_images_and_min_size(tmp_path):
    path = write_data(tmp_path, {1: [30], 2: [30], 3: [40]})
    with pytest.raises(ValueError, match=r'detic.json: 0 of 4 images kept: '
                       r'3 had only unmapped labels.*1 had no label'):
        build(path, tmp_path)
    path = write_data(tmp_path, {1: [10], 2: [20], 3: [10], 4: [10]})
    assert len(build(path, tmp_path, max_images=2)) == 2
    # min_size 35: image 2 (40x30) and 4 (32x32) are too small
    ds = build(path, tmp_path, filter_cfg=dict(min_size=35))
    assert [ds.get_data_info(i)['img_id'] for i in range(len(ds))] == [1, 3]


def test_class_balanced_dataset_accepts_it(tmp_path):
    path = write_data(tmp_path, {1: [10], 2: [20], 3: [10], 4: [30]})
    ds = build(path, tmp_path, unmapped='soft')
    # cat in 2/4 images, dog in 1/4: with thr 0.5 dog repeats sqrt(2) times
    cbd = ClassBalancedDataset(ds, oversample_thr=0.5)
    factors = cbd._get_repeat_factors(ds, 0.5)
    np.testing.assert_allclose(factors, [1.0, np.sqrt(2.0), 1.0, 1.0])


def test_generated_ovd_shapes_image_labels(tmp_path):
    """The generator's image-label split (here 40 images, 2 per class; the
    committed data use 600, 30 per class) maps onto the 20 classes."""
    root = make_shapes(tmp_path / 'shapes', num_train=1, num_val=1,
                       num_imagelabel=40)
    real = osp.join(root, 'annotations/image_labels_train.json')
    ds = ImageLabelDataset(ann_file=real, metainfo=dict(classes=SHAPES),
                           data_prefix=dict(img='images'), pipeline=[])
    assert len(ds) == 40
    labels = [ds.get_cat_ids(i) for i in range(len(ds))]
    assert all(len(x) == 1 for x in labels)
    counts = Counter(x[0] for x in labels)
    assert sorted(counts) == list(range(20))
    assert set(counts.values()) == {2}
    assert not ds.unmapped_counts and ds.num_no_label == 0
    data = json.load(open(real))
    names = {c['id']: c['name'] for c in data['categories']}
    for i in (0, 19, 39):
        info = ds.get_data_info(i)
        img = data['images'][i]
        assert info['img_id'] == img['id']
        assert info['instances'][0]['bbox'] == [0.0, 0.0, float(img['width']),
                                                float(img['height'])]
        want = SHAPES.index(names[img['pos_category_ids'][0]])
        assert info['instances'][0]['bbox_label'] == want
