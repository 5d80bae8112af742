"""WholeImageBox: the whole-image box of the augmented image (RichSem 3.1)."""
import json

import cv2
import numpy as np
import pytest
import torch
from mmdet.structures.bbox import HorizontalBoxes
from mmdet.utils import register_all_modules

from ovd_ext.datasets import ImageLabelDataset
from ovd_ext.datasets.transforms import WholeImageBox

META_KEYS = ('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor',
             'flip', 'flip_direction', 'image_label')
LOAD = [dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations', with_bbox=True)]


@pytest.fixture(autouse=True)
def _mmdet_scope():
    register_all_modules()


def _dataset(tmp_path, pipeline):
    """One 64x48 PNG labelled 'cat' and 'dog'."""
    cv2.imwrite(str(tmp_path / 'a.png'),
                np.random.default_rng(0).integers(0, 255, (48, 64, 3),
                                                  dtype=np.uint8))
    path = tmp_path / 'labels.json'
    path.write_text(json.dumps(dict(
        images=[dict(id=7, file_name='a.png', width=64, height=48,
                     pos_category_ids=[2, 1])],
        categories=[dict(id=1, name='cat'), dict(id=2, name='dog')])))
    return ImageLabelDataset(ann_file=str(path), pipeline=pipeline,
                             data_prefix=dict(img=str(tmp_path)),
                             metainfo=dict(classes=('cat', 'dog')))


def _packed_boxes(out):
    sample = out['data_samples']
    return sample.gt_instances.bboxes.tensor, sample.metainfo


def test_pipeline_box_is_the_augmented_image(tmp_path):
    np.random.seed(0)
    pipeline = LOAD + [
        dict(type='RandomResize', scale=(128, 96), ratio_range=(0.8, 1.2),
             keep_ratio=True),
        dict(type='RandomCrop', crop_size=(50, 40), allow_negative_crop=True),
        dict(type='RandomFlip', prob=1.0),
        dict(type='WholeImageBox'),
        dict(type='PackDetInputs', meta_keys=META_KEYS)]
    ds = _dataset(tmp_path, pipeline)
    for _ in range(5):
        out = ds[0]
        boxes, meta = _packed_boxes(out)
        h, w = meta['img_shape']
        assert (h, w) == (40, 50)  # the crop, not the 64x48 original
        assert tuple(out['inputs'].shape[1:]) == (h, w)
        assert meta['image_label'] is True and meta['flip'] is True
        assert boxes.dtype == torch.float32
        torch.testing.assert_close(boxes, torch.tensor([[0., 0., w, h]] * 2))
        assert out['data_samples'].gt_instances.labels.tolist() == [1, 0]


def test_pipeline_with_expand_differs_without_it(tmp_path):
    """Expand moves the image onto a larger canvas: without WholeImageBox the
    box is the original image's, with it the whole canvas."""
    expand = dict(type='Expand', mean=(0, 0, 0), ratio_range=(2, 3), prob=1.0)
    pack = dict(type='PackDetInputs', meta_keys=META_KEYS[:-1])
    np.random.seed(1)
    boxes, meta = _packed_boxes(_dataset(tmp_path, LOAD + [expand, pack])[0])
    h, w = meta['img_shape']
    assert h >= 96 and w >= 128
    assert not torch.allclose(boxes[0], torch.tensor([0., 0., w, h]))
    np.random.seed(1)
    ds = _dataset(tmp_path, LOAD + [expand, dict(type='WholeImageBox'), pack])
    boxes, meta = _packed_boxes(ds[0])
    h, w = meta['img_shape']
    torch.testing.assert_close(boxes, torch.tensor([[0., 0., w, h]] * 2))


def test_transform_keeps_rows_labels_and_flags():
    results = dict(
        img_shape=(30, 70),
        gt_bboxes=HorizontalBoxes(torch.tensor([[1., 2., 3., 4.],
                                                [5., 6., 50., 20.],
                                                [0., 0., 9., 9.]])),
        gt_bboxes_labels=np.array([3, -1, 0]),
        gt_ignore_flags=np.array([False, True, False]))
    out = WholeImageBox()(results)
    assert isinstance(out['gt_bboxes'], HorizontalBoxes)
    assert out['gt_bboxes'].tensor.dtype == torch.float32
    np.testing.assert_array_equal(out['gt_bboxes'].numpy(),
                                  [[0, 0, 70, 30]] * 3)
    np.testing.assert_array_equal(out['gt_bboxes_labels'], [3, -1, 0])
    np.testing.assert_array_equal(out['gt_ignore_flags'], [False, True, False])
    assert out['image_label'] is True


def test_missing_gt_bboxes_is_a_key_error():
    with pytest.raises(KeyError, match=r'LoadAnnotations\(with_bbox=True\)'):
        WholeImageBox()(dict(img_shape=(10, 10), img_path='x.png'))
