import json

import pytest

import ovd_ext  # noqa: F401
from ovd_ext.datasets import OVCocoDataset, OVLVISV1Dataset

CATS = [dict(id=1, name='cat', frequency='f', image_count=3, instance_count=3,
             synonyms=['cat'], def_='x'),
        dict(id=2, name='dog', frequency='c', image_count=1, instance_count=1,
             synonyms=['dog']),
        dict(id=3, name='cow', frequency='r', image_count=2, instance_count=3,
             synonyms=['cow'])]


def write_json(tmp_path, lvis=False):
    images, anns = [], []
    layout = {1: [1, 3], 2: [3, 3], 3: [1, 2], 4: [1]}   # image -> categories
    for img_id, cats in layout.items():
        img = dict(id=img_id, width=64, height=48,
                   file_name=f'{img_id:03d}.png')
        if lvis:
            img.update(coco_url=f'http://images.cocodataset.org/{img_id:03d}.png',
                       neg_category_ids=[], not_exhaustive_category_ids=[])
        images.append(img)
        for c in cats:
            anns.append(dict(id=len(anns) + 1, image_id=img_id, category_id=c,
                             bbox=[4, 4, 20, 10], area=200, iscrowd=0,
                             segmentation=[[4, 4, 24, 4, 24, 14, 4, 14]]))
    path = tmp_path / ('lvis.json' if lvis else 'coco.json')
    path.write_text(json.dumps(dict(images=images, annotations=anns,
                                    categories=CATS)))
    return str(path)


META = dict(classes=('cat', 'dog', 'cow'), novel_classes=('cow',))


def test_coco_split_metainfo_and_novel_dropping(tmp_path):
    ann = write_json(tmp_path)
    ds = OVCocoDataset(ann_file=ann, metainfo=META, data_prefix=dict(img=''),
                       pipeline=[], drop_novel=True,
                       filter_cfg=dict(filter_empty_gt=True))
    assert ds.metainfo['base_classes'] == ('cat', 'dog')
    assert ds.metainfo['novel_classes'] == ('cow',)
    assert ds.num_dropped_novel == 3
    # image 2 had only cows: it is empty now and filtered as mmdet does
    assert sorted(d['img_id'] for d in ds) == [1, 3, 4]
    labels = [i['bbox_label'] for d in ds for i in d['instances']]
    assert sorted(labels) == [0, 0, 0, 1]


def test_coco_split_keeps_novel_for_testing(tmp_path):
    ds = OVCocoDataset(ann_file=write_json(tmp_path), metainfo=META,
                       data_prefix=dict(img=''), pipeline=[], test_mode=True)
    assert len(ds) == 4 and ds.num_dropped_novel == 0
    assert sum(len(d['instances']) for d in ds) == 7


def test_unknown_novel_class_is_an_error(tmp_path):
    meta = dict(classes=('cat', 'dog'), novel_classes=('tiger',))
    with pytest.raises(ValueError, match="'tiger'"):
        OVCocoDataset(ann_file=write_json(tmp_path), metainfo=meta,
                      pipeline=[], data_prefix=dict(img=''))


def test_lvis_rare_classes_are_novel(tmp_path):
    ds = OVLVISV1Dataset(ann_file=write_json(tmp_path, lvis=True),
                         metainfo=dict(classes=('cat', 'dog', 'cow')),
                         data_prefix=dict(img=''), pipeline=[],
                         drop_novel=True, filter_cfg=dict(filter_empty_gt=True))
    assert ds.metainfo['novel_classes'] == ('cow',)
    assert ds.metainfo['base_classes'] == ('cat', 'dog')
    assert ds.num_dropped_novel == 3
    assert len(ds) == 3
    assert ds[0]['img_path'].endswith('001.png')
