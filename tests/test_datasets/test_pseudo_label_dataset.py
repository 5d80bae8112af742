"""PseudoLabelDataset: ground truth + pseudo labels merged and filtered."""
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch

from mmdet.utils import register_all_modules

import ovd_ext  # noqa: F401
from ovd_ext.datasets.pseudo_label_dataset import (PseudoLabelDataset,
                                                   PseudoLabelLVISDataset,
                                                   box_polygon)

CATS = [dict(id=1, name='cat', frequency='f', image_count=2,
             instance_count=2, synonyms=['cat']),
        dict(id=2, name='dog', frequency='c', image_count=1, instance_count=1,
             synonyms=['dog']),
        dict(id=3, name='cow', frequency='r', image_count=2, instance_count=2,
             synonyms=['cow'])]
META = dict(classes=('cat', 'dog', 'cow'), novel_classes=('cow',))
PIPELINE = [dict(type='LoadImageFromFile'),
            dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
            dict(type='PackDetInputs')]


def _image(img_id, lvis=False):
    im = dict(id=img_id, width=64, height=48, file_name=f'{img_id:03d}.png')
    if lvis:
        im.update(coco_url=f'http://images.cocodataset.org/{img_id:03d}.png',
                  neg_category_ids=[], not_exhaustive_category_ids=[])
        del im['file_name']
    return im


def write_data(tmp_path, lvis=False):
    """GT: image 1 cat + cow, image 2 cow only, image 3 nothing.
    Pseudo labels (category ids renumbered, matched by name): image 1 cow
    (kept), image 1 cow below threshold, image 2 cow (image kept though its
    GT was all novel), image 3 cow below threshold (image stays empty),
    image 4 only in the PL json (added), image 99 unknown, a dog PL when
    only cow PLs are wanted."""
    for i in (1, 2, 3, 4):
        cv2.imwrite(str(tmp_path / f'{i:03d}.png'),
                    np.zeros((48, 64, 3), np.uint8))
    anns = []
    for img_id, cat in ((1, 1), (1, 3), (2, 3)):
        anns.append(dict(id=len(anns) + 1, image_id=img_id, category_id=cat,
                         bbox=[4, 4, 20, 10], area=200, iscrowd=0,
                         segmentation=[[4, 4, 24, 4, 24, 14, 4, 14]]))
    gt = dict(images=[_image(i, lvis) for i in (1, 2, 3)], annotations=anns,
              categories=CATS)
    gt_path = tmp_path / 'gt.json'
    gt_path.write_text(json.dumps(gt))
    pl_cats = [dict(id=10 + c['id'], name=c['name']) for c in CATS]
    rows = [(1, 13, [30, 20, 10.5, 8], 0.9), (1, 13, [0, 0, 5, 5], 0.3),
            (2, 13, [40, 30, 60, 30], 0.85), (3, 13, [1, 1, 9, 9], 0.2),
            (4, 13, [5, 6, 7, 8], 0.95), (99, 13, [5, 6, 7, 8], 0.95),
            (4, 12, [5, 6, 7, 8], 0.95)]
    pl = dict(images=[_image(i, lvis) for i in (1, 2, 3, 4)],
              categories=pl_cats,
              annotations=[dict(id=k + 1, image_id=i, category_id=c, bbox=b,
                                score=s, pseudo=True, iscrowd=0,
                                area=b[2] * b[3])
                           for k, (i, c, b, s) in enumerate(rows)])
    pl_path = tmp_path / 'pl.json'
    pl_path.write_text(json.dumps(pl))
    return str(gt_path), str(pl_path)


def build(tmp_path, cls=PseudoLabelDataset, lvis=False, **kw):
    register_all_modules()
    gt, pl = write_data(tmp_path, lvis)
    args = dict(ann_file=gt, data_prefix=dict(img=str(tmp_path) + '/'),
                pipeline=PIPELINE, pseudo_ann_file=pl, pseudo_score_thr=0.5,
                pseudo_classes=['cow'], drop_novel=True,
                filter_cfg=dict(filter_empty_gt=True))
    args['metainfo'] = META if not lvis else dict(classes=META['classes'])
    args.update(kw)
    return cls(**args)


def infos(ds):
    return [ds.get_data_info(i) for i in range(len(ds))]


def test_merge_filter_and_counts(tmp_path):
    ds = build(tmp_path)
    by_id = {ds.get_data_info(i)['img_id']: ds.get_data_info(i)
             for i in range(len(ds))}
    assert sorted(by_id) == [1, 2, 4]            # 3 has nothing left
    st = ds.pseudo_stats
    assert st['loaded'] == 7 and st['merged'] == 3 and st['below_thr'] == 2
    assert st['other_class'] == 1 and st['unknown_image'] == 1
    assert st['images_added'] == 1 and st['images_with_pseudo'] == 3
    one = by_id[1]['instances']
    assert [(i['bbox_label'], i.get('pseudo', False)) for i in one] == [
        (0, False), (2, True)]                   # base GT cat + novel PL cow
    pl = one[1]
    assert pl['bbox'] == [30.0, 20.0, 40.5, 28.0] and pl['ignore_flag'] == 0
    assert pl['mask'] == box_polygon(30.0, 20.0, 40.5, 28.0)
    assert pl['pseudo_score'] == 0.9
    # box clipped to the image (64 x 48)
    assert by_id[2]['instances'][0]['bbox'] == [40.0, 30.0, 64.0, 48.0]
    assert by_id[4]['img_path'].endswith('004.png')
    assert ds.num_dropped_novel == 2


def test_pseudo_instances_go_through_the_pipeline(tmp_path):
    ds = build(tmp_path)
    idx = next(i for i in range(len(ds)) if ds.get_data_info(i)['img_id'] == 1)
    gt = ds[idx]['data_samples'].gt_instances
    assert gt.labels.tolist() == [0, 2]
    assert torch.allclose(gt.bboxes.tensor[1],
                          torch.tensor([30.0, 20.0, 40.5, 28.0]))
    mask = gt.masks.to_ndarray()[1]
    ys, xs = np.nonzero(mask)
    assert (xs.min(), xs.max(), ys.min(), ys.max()) == (30, 40, 20, 27)


def test_options(tmp_path):
    ds = build(tmp_path, pseudo_mask=None, pseudo_score_thr=0.0,
               pseudo_classes=None, add_pseudo_images=False)
    st = ds.pseudo_stats
    assert st['merged'] == 4 and st['unknown_image'] == 3   # 4, 4, 99
    pls = [i for d in infos(ds) for i in d['instances'] if i.get('pseudo')]
    assert len(pls) == 4 and all('mask' not in i for i in pls)
    # image 3 has a (low-score) PL now, so it is kept
    assert sorted(d['img_id'] for d in infos(ds)) == [1, 2, 3]
    with pytest.raises(ValueError, match='pseudo_mask'):
        build(tmp_path, pseudo_mask='polygon')


def test_ssod_without_novel_classes(tmp_path):
    ds = build(tmp_path, metainfo=dict(classes=('cat', 'dog', 'cow')),
               drop_novel=False, pseudo_classes=None)
    assert ds.metainfo['novel_classes'] == ()
    assert len(ds.metainfo['base_classes']) == 3
    one = next(d for d in infos(ds) if d['img_id'] == 1)['instances']
    assert [i['bbox_label'] for i in one] == [0, 2, 2]   # GT kept + PL


def test_lvis_variant_keeps_rare_as_novel(tmp_path):
    ds = build(tmp_path, cls=PseudoLabelLVISDataset, lvis=True)
    assert ds.metainfo['novel_classes'] == ('cow',)
    assert ds.pseudo_stats['merged'] == 3
    four = next(d for d in infos(ds) if d['img_id'] == 4)
    assert four['img_path'].endswith('004.png')


def _rewrite_pl(pl_path, fn):
    """A changed copy of the pseudo-label json in a subfolder (``build``
    rewrites the original); returns its path."""
    pl = json.load(open(pl_path))
    fn(pl)
    out = osp.join(osp.dirname(pl_path), 'changed', 'pl.json')
    os.makedirs(osp.dirname(out), exist_ok=True)
    with open(out, 'w') as f:
        json.dump(pl, f)
    return out


def test_pseudo_masks_from_rle_records(tmp_path):
    """Records with an RLE ``segmentation`` (XPM's pseudo masks) bring their
    mask; box-only records keep the box polygon."""
    from pycocotools import mask as mask_utils
    m = np.zeros((48, 64), np.uint8)
    m[22:26, 31:37] = 1                     # inside the box [30, 20, 40.5, 28]
    rle = mask_utils.encode(np.asfortranarray(m))
    rle['counts'] = rle['counts'].decode()
    gt, pl = write_data(tmp_path)
    pl = _rewrite_pl(pl, lambda d: d['annotations'][0].update(
        segmentation=rle))
    ds = build(tmp_path, pseudo_ann_file=pl)
    idx = next(i for i in range(len(ds)) if ds.get_data_info(i)['img_id'] == 1)
    assert ds.get_data_info(idx)['instances'][1]['mask'] == rle
    masks = ds[idx]['data_samples'].gt_instances.masks.to_ndarray()
    assert (masks[1] == m).all()                       # the RLE, decoded
    two = next(i for i in range(len(ds)) if ds.get_data_info(i)['img_id'] == 2)
    assert ds.get_data_info(two)['instances'][0]['mask'] == box_polygon(
        40.0, 30.0, 64.0, 48.0)                        # box-only record
    # 'mask' mode requires a segmentation on every used pseudo label
    with pytest.raises(ValueError, match=r"pl.json: record #2 field "
                       "'segmentation': missing"):
        build(tmp_path, pseudo_ann_file=pl, pseudo_mask='mask')
    # an RLE of another size than the image
    pl = _rewrite_pl(pl, lambda d: d['annotations'][0].update(
        segmentation=dict(rle, size=[10, 10])))
    with pytest.raises(ValueError, match=r"record #0 field 'segmentation': "
                       r'RLE size \[10, 10\] is not the image size'):
        build(tmp_path, pseudo_ann_file=pl)


@pytest.mark.parametrize('change, field', [
    (lambda a: a.pop('bbox'), 'bbox'),
    (lambda a: a.update(bbox=[1, 2, 3]), 'bbox'),
    (lambda a: a.update(score='0.9'), 'score'),
    (lambda a: a.update(category_id=77), 'category_id'),
    (lambda a: a.pop('image_id'), 'image_id'),
    (lambda a: a.update(segmentation={'size': [48, 64]}), 'segmentation'),
])
def test_malformed_record_names_file_index_and_field(tmp_path, change,
                                                     field):
    gt, pl = write_data(tmp_path)
    pl = _rewrite_pl(pl, lambda d: change(d['annotations'][3]))
    with pytest.raises(ValueError, match=rf"pl.json: record #3 field "
                       rf"'{field}'"):
        build(tmp_path, pseudo_ann_file=pl)


def test_malformed_files(tmp_path):
    gt, pl = write_data(tmp_path)
    pl = _rewrite_pl(pl, lambda d: None)
    with open(pl, 'w') as f:
        f.write('{"images": [], "annotations": [')
    with pytest.raises(ValueError, match='pl.json: not valid json'):
        build(tmp_path, pseudo_ann_file=pl)
    with open(pl, 'w') as f:
        json.dump({'images': [], 'annotations': []}, f)
    with pytest.raises(ValueError, match="pl.json field 'categories': "
                       'missing'):
        build(tmp_path, pseudo_ann_file=pl)


def test_nonfinite_and_degenerate_pseudo_labels_dropped_and_counted(
        tmp_path):
    gt, pl = write_data(tmp_path)

    def spoil(d):
        a = d['annotations']
        a[0]['score'] = float('nan')                  # the merged cow PL
        a[2]['bbox'] = [40, 30, 0, 30]                # no area
        a[4]['bbox'] = [5, float('inf'), 7, 8]
    pl = _rewrite_pl(pl, spoil)
    ds = build(tmp_path, pseudo_ann_file=pl)
    st = ds.pseudo_stats
    assert st['loaded'] == 7 and st['merged'] == 0
    assert (st['nonfinite_score'], st['degenerate_bbox'],
            st['nonfinite_bbox']) == (1, 1, 1)
