"""CaptionPseudoLabelDataset: XPM's captioned images with cross-modal pseudo
labels (classes = the caption vocabulary, labels = word ids, RLE pseudo
masks, caption_pseudo metainfo, dropped / malformed records, vocabulary
check)."""
import json

import cv2
import numpy as np
import pytest
import torch
from mmdet.registry import DATASETS
from mmdet.structures.mask import BitmapMasks
from mmdet.utils import register_all_modules
from pycocotools import mask as mask_utils

import ovd_ext  # noqa: F401
from ovd_ext.datasets import CaptionPseudoLabelDataset
from ovd_ext.pseudo_labels.record import PseudoLabelFormatError

WORDS = ['star', 'ring', 'heart']          # V_C, ids 1..3
H, W = 24, 32
PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor', 'caption_pseudo'))]


def rect_mask(x0, y0, x1, y1):
    m = np.zeros((H, W), np.uint8)
    m[y0:y1, x0:x1] = 1
    return m


def rle(mask):
    r = mask_utils.encode(np.asfortranarray(mask))
    return dict(size=[int(v) for v in r['size']],
                counts=r['counts'].decode('ascii'))


def masks():
    """A rectangle with a hole and an L shape (not boxes: the round trip
    must keep the pixels, not only the extent)."""
    a = rect_mask(2, 3, 14, 15)
    a[6:9, 5:9] = 0
    b = rect_mask(16, 4, 30, 20)
    b[4:12, 16:24] = 0
    return a, b


def ann(ann_id, img_id, word_id, mask, score=0.6, caption_words=None,
        **extra):
    ys, xs = np.nonzero(mask)
    box = [float(xs.min()), float(ys.min()), float(xs.max() - xs.min() + 1),
           float(ys.max() - ys.min() + 1)]
    a = dict(id=ann_id, image_id=img_id, category_id=word_id + 1, bbox=box,
             area=float(mask.sum()), score=score, iscrowd=0, pseudo=True,
             segmentation=rle(mask), word_id=word_id,
             caption_words=caption_words or [word_id])
    a.update(extra)
    return a


CATEGORIES = [dict(id=i + 1, name=w) for i, w in enumerate(WORDS)]


def write(tmp_path, anns, name='pl.json', categories=CATEGORIES):
    """Images 1 and 2 (blank PNGs) and the pseudo-label json (categories
    as XPMLabeler writes them: ids 1..n in file order)."""
    for i in (1, 2):
        cv2.imwrite(str(tmp_path / f'{i:03d}.png'), np.zeros((H, W, 3),
                                                             np.uint8))
    data = dict(
        info=dict(format_version=1, description='pseudo labels (ovd_ext)'),
        images=[dict(id=i, file_name=f'{i:03d}.png', height=H, width=W)
                for i in (1, 2)],
        categories=categories,
        annotations=anns)
    path = tmp_path / name
    path.write_text(json.dumps(data))      # NaN is written as NaN
    return str(path)


def default_anns():
    a, b = masks()
    return [ann(1, 1, 0, a, caption_words=[0, 2]),       # star
            ann(2, 1, 2, b, caption_words=[0, 2]),       # heart
            ann(3, 2, 1, b, score=0.4)]                  # ring


def build(path, tmp_path, **kwargs):
    register_all_modules()
    return DATASETS.build(dict(type='CaptionPseudoLabelDataset',
                               ann_file=path,
                               data_prefix=dict(img=str(tmp_path) + '/'),
                               pipeline=PIPELINE, **kwargs))


def test_classes_labels_masks_and_metainfo(tmp_path):
    ds = build(write(tmp_path, default_anns()), tmp_path)
    assert isinstance(ds, CaptionPseudoLabelDataset)
    assert ds.metainfo['classes'] == ('star', 'ring', 'heart')
    assert len(ds) == 2
    assert ds.pseudo_stats == {'kept': 3}
    info = ds.get_data_info(0)
    assert info['caption_pseudo'] is True
    # the image's caption objects as labels (from caption_words)
    assert info['caption_words'] == [0, 2]
    assert ds.get_data_info(1)['caption_words'] == [1]
    assert [i['bbox_label'] for i in info['instances']] == [0, 2]
    a, b = masks()
    out = ds[0]
    sample = out['data_samples']
    assert sample.metainfo['caption_pseudo'] is True
    assert sample.metainfo['img_id'] == 1
    gt = sample.gt_instances
    # labels are the word ids (category_id - 1)
    assert gt.labels.tolist() == [0, 2]
    assert isinstance(gt.masks, BitmapMasks)
    assert gt.masks.masks.shape == (2, H, W)
    # the decoded pseudo masks are the written ones, pixel for pixel
    assert np.array_equal(gt.masks.masks[0], a)
    assert np.array_equal(gt.masks.masks[1], b)
    # boxes: xywh -> xyxy
    torch.testing.assert_close(gt.bboxes.tensor[0],
                               torch.tensor([2.0, 3.0, 14.0, 15.0]))
    second = ds[1]['data_samples']
    assert second.gt_instances.labels.tolist() == [1]
    assert np.array_equal(second.gt_instances.masks.masks[0], b)


def test_nonfinite_score_is_dropped_and_counted(tmp_path):
    a, b = masks()
    anns = default_anns() + [ann(4, 2, 0, a, score=float('nan')),
                             ann(5, 2, 2, a, score=float('inf'))]
    ds = build(write(tmp_path, anns), tmp_path)
    assert ds.pseudo_stats == {'kept': 3, 'nonfinite_score': 2}
    # image 2 keeps only its valid 'ring'
    assert ds[1]['data_samples'].gt_instances.labels.tolist() == [1]


def test_degenerate_box_is_dropped_and_counted(tmp_path):
    a, _ = masks()
    bad = ann(4, 2, 0, a)
    bad['bbox'] = [3.0, 3.0, 0.0, 5.0]
    ds = build(write(tmp_path, default_anns() + [bad]), tmp_path)
    assert ds.pseudo_stats['degenerate_bbox'] == 1
    assert ds.pseudo_stats['kept'] == 3


def test_record_without_segmentation_names_the_file(tmp_path):
    anns = default_anns()
    del anns[2]['segmentation']
    path = write(tmp_path, anns)
    with pytest.raises(PseudoLabelFormatError) as err:
        build(path, tmp_path)
    msg = str(err.value)
    assert path in msg and "'segmentation'" in msg and 'pseudo mask' in msg
    # the annotation id is named
    assert err.value.index == 3


def test_malformed_segmentation_names_the_file(tmp_path):
    anns = default_anns()
    anns[0]['segmentation'] = dict(size=[H], counts='abc')
    path = write(tmp_path, anns)
    with pytest.raises(PseudoLabelFormatError, match='segmentation') as err:
        build(path, tmp_path)
    assert path in str(err.value)


def test_vocabulary_must_match_the_categories(tmp_path, vocab_factory):
    path = write(tmp_path, default_anns())
    good = vocab_factory(WORDS, name='words.npy')
    assert build(path, tmp_path, vocabulary=good).metainfo['classes'] == \
        tuple(WORDS)
    other = vocab_factory(['star', 'heart', 'ring'], name='other.npy')
    with pytest.raises(ValueError, match='caption vocabulary mismatch') as err:
        build(path, tmp_path, vocabulary=other)
    msg = str(err.value)
    assert other in msg and path in msg
    assert 'position 1' in msg
    shorter = vocab_factory(WORDS[:2], name='short.npy')
    with pytest.raises(ValueError, match='2 words.*3 categories') as err:
        build(path, tmp_path, vocabulary=shorter)
    assert shorter in str(err.value) and path in str(err.value)


def test_empty_images_are_filtered_like_coco(tmp_path):
    anns = default_anns()[:2]                  # image 2 has no pseudo label
    ds = build(write(tmp_path, anns), tmp_path,
               filter_cfg=dict(filter_empty_gt=True, min_size=1))
    assert len(ds) == 1 and ds.get_data_info(0)['img_id'] == 1
    assert ds.pseudo_stats["kept"] == 2


def test_categories_out_of_id_order_keep_labels_equal_to_word_ids(tmp_path):
    shuffled = [CATEGORIES[2], CATEGORIES[0], CATEGORIES[1]]  # ids 3, 1, 2
    ds = build(write(tmp_path, default_anns(), categories=shuffled),
               tmp_path)
    assert ds.metainfo['classes'] == ('star', 'ring', 'heart')   # by id
    # star (id 1, word 0) and heart (id 3, word 2): labels must be [0, 2]
    # (got [1, 0]: label = position in the file's category list)
    assert ds[0]['data_samples'].gt_instances.labels.tolist() == [0, 2]


def test_caption_word_outside_the_categories_is_an_error(tmp_path):
    a, _ = masks()
    path = write(tmp_path, [ann(1, 1, 0, a, caption_words=[0, 7])])
    with pytest.raises(PseudoLabelFormatError, match='caption_words'):
        build(path, tmp_path)
