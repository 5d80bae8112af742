"""OVD-Shapes generator: determinism, formats, masks, splits, mmdet loading."""
from __future__ import annotations

import hashlib
import json
import os
import os.path as osp
import re

import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

from ovd_ext.shapes import (BASE_CLASSES, CLASSES, NOVEL_CLASSES,
                            frequency_thresholds, generate_ovd_shapes)
from ovd_ext.shapes.categories import SYNONYMS, plural

TINY = dict(num_train=12, num_val=6, num_imagelabel=20)
pytestmark = pytest.mark.filterwarnings('ignore:OVD-Shapes.*too few')


def _hashes(root: str) -> dict[str, str]:
    out = {}
    for dirpath, _, files in os.walk(root):
        for f in files:
            path = osp.join(dirpath, f)
            with open(path, 'rb') as fh:
                out[osp.relpath(path, root)] = hashlib.sha256(
                    fh.read()).hexdigest()
    return out


def _load(path: str) -> dict:
    with open(path) as f:
        return json.load(f)


@pytest.fixture(scope='module')
def tiny(tmp_path_factory) -> dict:
    out = str(tmp_path_factory.mktemp('shapes_a'))
    with pytest.warns(UserWarning, match='too few for the intended LVIS'):
        paths = generate_ovd_shapes(out, seed=3, progress=False, **TINY)
    return dict(paths, root=out)


@pytest.fixture(scope='module')
def medium(tmp_path_factory) -> dict:
    """Enough train images for a real long tail (scaled thresholds 1 / 10)."""
    out = str(tmp_path_factory.mktemp('shapes_m'))
    paths = generate_ovd_shapes(out, num_train=200, num_val=10,
                                num_imagelabel=0, seed=3, progress=False)
    return dict(paths, root=out)


def test_same_seed_same_bytes_any_workers(tiny, tmp_path):
    again = generate_ovd_shapes(str(tmp_path), seed=3, workers=2,
                                progress=False, **TINY)
    a, b = _hashes(tiny['root']), _hashes(str(tmp_path))
    assert len(a) == 12 + 6 + 20 + 7
    assert a == b
    assert again['meta'] == osp.join(str(tmp_path), 'annotations', 'meta.json')


def test_different_seed_differs(tiny, tmp_path):
    generate_ovd_shapes(str(tmp_path), seed=4, progress=False, **TINY)
    a, b = _hashes(tiny['root']), _hashes(str(tmp_path))
    assert a.keys() == b.keys()
    same = [k for k in a if a[k] == b[k]]
    assert same == []


def test_image_does_not_depend_on_split_size(tiny, medium):
    a, b = _hashes(tiny['root']), _hashes(medium['root'])
    for i in range(1, 13):
        key = osp.join('images', 'train', f'{i:06d}.png')
        assert a[key] == b[key]
    assert a[osp.join('images', 'val', '000001.png')] == \
        b[osp.join('images', 'val', '000001.png')]


def test_meta(tiny):
    meta = _load(tiny['meta'])
    assert meta['classes'] == list(CLASSES) and len(CLASSES) == 20
    assert meta['novel_classes'] == list(NOVEL_CLASSES)
    assert len(meta['base_classes']) == 15 and len(meta['novel_classes']) == 5
    assert set(meta['base_classes']) | set(meta['novel_classes']) == \
        set(CLASSES)
    assert not set(BASE_CLASSES) & set(NOVEL_CLASSES)
    assert set(meta['frequency']) == set(CLASSES)
    assert set(meta['frequency'].values()) <= {'r', 'c', 'f'}
    assert meta['seed'] == 3 and meta['args']['num_train'] == 12
    for name in CLASSES:
        assert re.fullmatch(r'[a-z]+( [a-z]+)?', name)


@pytest.mark.parametrize('split,num', [('train', 12), ('val', 6)])
def test_coco_instances(tiny, split, num):
    coco = COCO(tiny[f'instances_{split}'])
    assert len(coco.getImgIds()) == num
    cats = coco.loadCats(coco.getCatIds())
    assert [c['id'] for c in cats] == list(range(1, 21))
    assert [c['name'] for c in cats] == list(CLASSES)
    n_anns = 0
    for img in coco.loadImgs(coco.getImgIds()):
        assert re.fullmatch(rf'{split}/\d{{6}}\.png', img['file_name'])
        with Image.open(osp.join(tiny['images_dir'], img['file_name'])) as im:
            assert im.size == (img['width'], img['height'])
            assert im.mode == 'RGB'
        assert 128 <= img['width'] <= 192 and 128 <= img['height'] <= 192
        anns = coco.loadAnns(coco.getAnnIds(imgIds=[img['id']]))
        assert 1 <= len(anns) <= 5
        union = np.zeros((img['height'], img['width']), np.int32)
        for ann in anns:
            m = mask_utils.decode(ann['segmentation'])
            assert m.shape == (img['height'], img['width'])
            assert int(m.sum()) == ann['area'] > 0
            ys, xs = np.nonzero(m)
            tight = [xs.min(), ys.min(), xs.max() - xs.min() + 1,
                     ys.max() - ys.min() + 1]
            assert ann['bbox'] == [float(v) for v in tight]
            assert ann['iscrowd'] == 0
            union += m
        assert union.max() == 1     # visible masks of one image never overlap
        n_anns += len(anns)
    assert n_anns == len(coco.getAnnIds()) >= num


def test_every_novel_class_in_val(tiny):
    val = _load(tiny['instances_val'])
    present = {a['category_id'] for a in val['annotations']}
    novel_ids = {CLASSES.index(n) + 1 for n in NOVEL_CLASSES}
    assert novel_ids <= present


def test_files_are_the_rendered_scene(tiny):
    """The PNG holds exactly the rendered pixels and each annotation's mask is
    the visible part of one drawn object, in drawing order."""
    from ovd_ext.shapes.generate import render_detection_image
    coco = _load(tiny['instances_train'])
    for index in (0, 5):
        img = coco['images'][index]
        scene = render_detection_image(3, 'train', index)
        with Image.open(osp.join(tiny['images_dir'], img['file_name'])) as im:
            assert np.array_equal(np.asarray(im), scene.image)
        anns = [a for a in coco['annotations'] if a['image_id'] == img['id']]
        assert len(anns) == len(scene.objects)
        for ann, obj in zip(anns, scene.objects):
            assert CLASSES[ann['category_id'] - 1] == obj.name
            assert np.array_equal(mask_utils.decode(ann['segmentation']),
                                  obj.mask.astype(np.uint8))
            assert ann['area'] >= 0.4 * obj.full_area   # at most 60% hidden


def _lvis_checks(path: str, coco_path: str, num_train: int) -> dict:
    from lvis import LVIS
    api = LVIS(path)
    data = api.dataset
    coco = _load(coco_path)
    coco_anns = {a['id']: a for a in coco['annotations']}
    coco_by_img: dict[int, list[dict]] = {}
    for a in coco['annotations']:
        coco_by_img.setdefault(a['image_id'], []).append(a)
    assert set(api.get_img_ids()) <= {i['id'] for i in coco['images']}
    lvis_by_img: dict[int, list[dict]] = {}
    for a in data['annotations']:
        ref = coco_anns[a['id']]
        assert {k: ref[k] for k in a} == a and 'iscrowd' not in a
        lvis_by_img.setdefault(a['image_id'], []).append(a)
    rare_max, common_max = frequency_thresholds(num_train)
    for c in data['categories']:
        assert {'id', 'name', 'synonyms', 'def', 'frequency', 'image_count',
                'instance_count'} <= set(c)
        assert c['name'] in c['synonyms']
    for img in data['images']:
        assert img['coco_url'] == ('http://images.cocodataset.org/'
                                   + img['file_name'])
        cats = {a['category_id'] for a in lvis_by_img.get(img['id'], [])}
        all_cats = {a['category_id'] for a in coco_by_img[img['id']]}
        assert not set(img['neg_category_ids']) & all_cats
        for cid in img['not_exhaustive_category_ids']:
            assert cid in cats
            n_lvis = sum(a['category_id'] == cid
                         for a in lvis_by_img[img['id']])
            n_coco = sum(a['category_id'] == cid
                         for a in coco_by_img[img['id']])
            assert n_lvis < n_coco
    return dict(api=api, rare_max=rare_max, common_max=common_max,
                by_img=lvis_by_img)


def test_lvis_train_counts_consistent(tiny):
    res = _lvis_checks(tiny['lvis_train'], tiny['instances_train'], 12)
    data = res['api'].dataset
    for c in data['categories']:
        imgs = {a['image_id'] for a in data['annotations']
                if a['category_id'] == c['id']}
        n = sum(a['category_id'] == c['id'] for a in data['annotations'])
        assert c['image_count'] == len(imgs) and c['instance_count'] == n
        expect = 'r' if len(imgs) <= res['rare_max'] else \
            'c' if len(imgs) <= res['common_max'] else 'f'
        assert c['frequency'] == expect
    assert all(res['by_img'].get(i['id']) for i in data['images'])


def test_lvis_train_long_tail(medium):
    res = _lvis_checks(medium['lvis_train'], medium['instances_train'], 200)
    data = res['api'].dataset
    assert (res['rare_max'], res['common_max']) == (1, 10)
    assert frequency_thresholds(2000) == (10, 100)
    freq = {c['name']: c['frequency'] for c in data['categories']}
    rare = sorted(n for n, f in freq.items() if f == 'r')
    assert rare == sorted(NOVEL_CLASSES)
    counts = {c['name']: c['image_count'] for c in data['categories']}
    assert all(1 <= counts[n] <= 1 for n in NOVEL_CLASSES)
    assert sum(f == 'c' for f in freq.values()) == 5
    assert all(counts[n] > 10 for n, f in freq.items() if f == 'f')
    assert sum(bool(i['not_exhaustive_category_ids'])
               for i in data['images']) >= 3
    assert all(1 <= len(i['neg_category_ids']) <= 5 for i in data['images'])
    assert _load(medium['meta'])['frequency'] == freq
    assert _load(medium['meta'])['rare_is_novel'] is True
    # images whose annotations were all dropped leave the LVIS split
    assert len(data['images']) < 200


def test_lvis_val(tiny):
    res = _lvis_checks(tiny['lvis_val'], tiny['instances_val'], 12)
    data = res['api'].dataset
    val = _load(tiny['instances_val'])
    assert len(data['images']) == 6
    assert len(data['annotations']) == len(val['annotations'])
    assert data['categories'] == _load(tiny['lvis_train'])['categories']
    for img in data['images']:
        assert img['not_exhaustive_category_ids'] == []
        assert len(img['neg_category_ids']) >= 7


def _mentions(caption: str, name: str) -> bool:
    words = '|'.join(re.escape(w) for s in SYNONYMS[name][:1]
                     for w in (s, plural(s)))
    return re.search(rf'\b({words})\b', caption.lower()) is not None


def test_captions(tiny, medium):
    for run in (tiny, medium):
        caps = _load(run['captions_train'])
        inst = _load(run['instances_train'])
        assert [i['id'] for i in caps['images']] == \
            [i['id'] for i in inst['images']]
        names = {}
        for a in inst['annotations']:
            names.setdefault(a['image_id'], set()).add(
                CLASSES[a['category_id'] - 1])
        per_img: dict[int, list[str]] = {}
        for c in caps['annotations']:
            per_img.setdefault(c['image_id'], []).append(c['caption'])
        assert len({c['id'] for c in caps['annotations']}) == \
            len(caps['annotations'])
        missed = 0
        for img in inst['images']:
            texts = per_img[img['id']]
            assert 2 <= len(texts) <= 3 and len(set(texts)) == len(texts)
            for t in texts:   # every caption names an annotated class
                assert any(_mentions(t, n) for n in names[img['id']]), t
                missed += not all(_mentions(t, n) for n in names[img['id']])
        assert missed > 0 or run is tiny


def test_image_labels(tiny):
    data = _load(tiny['image_labels_train'])
    assert len(data['images']) == 20
    assert len(data['annotations']) == 20
    for a in data['annotations']:
        assert set(a) == {'id', 'image_id', 'category_id'}
    assert {a['category_id'] for a in data['annotations']} == set(range(1, 21))
    for img in data['images']:
        assert img['file_name'].startswith('imagelabel/')
        assert osp.isfile(osp.join(tiny['images_dir'], img['file_name']))
        assert len(img['pos_category_ids']) == 1


def test_mmdet_datasets_load(tiny):
    from mmdet.datasets import CocoDataset, LVISV1Dataset
    from mmcv.transforms import LoadImageFromFile
    from mmdet.datasets.transforms import LoadAnnotations
    from mmdet.utils import register_all_modules
    register_all_modules()
    common = dict(data_root=tiny['root'], data_prefix=dict(img='images/'),
                  metainfo=dict(classes=CLASSES), pipeline=[], test_mode=True)
    for cls, key in ((CocoDataset, 'instances_train'),
                     (LVISV1Dataset, 'lvis_train'),
                     (LVISV1Dataset, 'lvis_val')):
        ds = cls(ann_file=osp.relpath(tiny[key], tiny['root']), **common)
        ref = _load(tiny[key])
        assert ds.metainfo['classes'] == CLASSES
        assert len(ds) == len(ref['images'])
        n_inst = 0
        for i in range(len(ds)):
            info = ds.get_data_info(i)
            assert osp.isfile(info['img_path']), info['img_path']
            n_inst += len(info['instances'])
        assert n_inst == len(ref['annotations'])
    info = CocoDataset(ann_file='annotations/instances_val.json',
                       **common).get_data_info(0)
    res = LoadImageFromFile()(dict(info))
    assert res['img'].shape == (info['height'], info['width'], 3)
    res = LoadAnnotations(with_bbox=True, with_mask=True)(res)
    areas = res['gt_masks'].areas
    val = _load(tiny['instances_val'])
    expect = [a['area'] for a in val['annotations']
              if a['image_id'] == info['img_id']]
    assert list(areas) == expect
