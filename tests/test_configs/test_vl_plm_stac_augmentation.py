"""STAC's strong augmentation as the STAC config builds it from mmdet's
transforms: the image, its boxes and its masks move together."""
import copy

import numpy as np
import pytest
from mmcv.transforms import Compose
from mmdet.registry import TRANSFORMS
from mmdet.structures.bbox import HorizontalBoxes
from mmdet.structures.mask import BitmapMasks
from mmdet.utils import register_all_modules
from mmengine.config import Config

pytestmark = pytest.mark.usefixtures('fast_mmdet_bases')

STAC_CFG = ('configs/vl_plm/'
            'faster-rcnn_r18-narrow_fpn_ovd-shapes-ssod-10pct_stac.py')
RED = (0, 0, 255)   # BGR


@pytest.fixture(scope='module')
def cfg():
    register_all_modules(init_default_scope=True)
    return Config.fromfile(STAC_CFG)


def _results(size=160):
    """Two red objects (a disc and a triangle) on grey, with their masks
    and tight boxes."""
    img = np.full((size, size, 3), 90, np.uint8)
    yy, xx = np.mgrid[:size, :size]
    disc = (yy - 60) ** 2 + (xx - 50) ** 2 <= 22 ** 2
    tri = (yy >= 90) & (yy <= 140) & (xx >= 95) & (xx - 95 <= yy - 90)
    masks = np.stack([disc, tri]).astype(np.uint8)
    img[disc | tri] = RED
    boxes = []
    for m in masks:
        ys, xs = np.nonzero(m)
        boxes.append([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])
    return dict(img=img, img_shape=(size, size), ori_shape=(size, size),
                gt_bboxes=HorizontalBoxes(np.array(boxes, np.float32)),
                gt_bboxes_labels=np.array([3, 7]),
                gt_ignore_flags=np.zeros(2, bool),
                gt_masks=BitmapMasks(masks, size, size))


def _check_consistent(out, tight=False, tol=1.5):
    boxes = out['gt_bboxes'].numpy()
    masks = out['gt_masks'].masks
    assert len(boxes) == len(masks) == len(out['gt_bboxes_labels'])
    red = np.all(out['img'] == RED, axis=-1)
    for box, mask in zip(boxes, masks):
        if not mask.any():
            continue
        ys, xs = np.nonzero(mask)
        mbox = np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])
        # the mask lies inside its box ...
        assert np.all(mbox[:2] >= box[:2] - tol), (mbox, box)
        assert np.all(mbox[2:] <= box[2:] + tol), (mbox, box)
        if tight:   # ... and, for translations, the box is the mask's box
            assert np.abs(mbox - box).max() <= tol, (mbox, box)
        # ... and on the moved object's pixels
        assert red[mask.astype(bool)].mean() > 0.8


@pytest.mark.parametrize('op', ['TranslateX', 'TranslateY', 'Rotate',
                                'ShearX', 'ShearY'])
def test_each_geometric_op_moves_boxes_and_masks_with_the_image(cfg, op):
    ops = [o[0]['type'] for o in cfg.geometric]
    assert op in ops
    t = TRANSFORMS.build(dict(type=op, prob=1.0, level=8,
                              reversal_prob=0.0))
    before = _results()
    out = t(copy.deepcopy(before))
    assert not np.array_equal(out['img'], before['img'])
    assert not np.allclose(out['gt_bboxes'].numpy(),
                           before['gt_bboxes'].numpy())
    _check_consistent(out, tight=op.startswith('Translate'))


def test_full_strong_pipeline_keeps_boxes_and_masks_consistent(cfg):
    pipeline = Compose([TRANSFORMS.build(t)
                        for t in cfg.strong_augmentation])
    kept = 0
    for seed in range(25):
        np.random.seed(seed)
        out = pipeline(_results())
        assert out is not None
        # cutout (grey 128) may cover object pixels: check geometry only
        boxes = out['gt_bboxes'].numpy()
        for box, mask in zip(boxes, out['gt_masks'].masks):
            kept += 1
            if mask.any():
                ys, xs = np.nonzero(mask)
                assert xs.min() >= box[0] - 1.5 and ys.min() >= box[1] - 1.5
                assert xs.max() + 1 <= box[2] + 1.5
                assert ys.max() + 1 <= box[3] + 1.5
        assert len(boxes) == len(out['gt_masks']) == len(
            out['gt_bboxes_labels'])
    assert kept > 25


def test_config_uses_stac_ops(cfg):
    colour = [o[0]['type'] for o in cfg.color_space]
    assert colour == ['ColorTransform', 'AutoContrast', 'Equalize',
                      'Solarize', 'Color', 'Contrast', 'Brightness',
                      'Sharpness', 'Posterize']
    order, erase, _ = cfg.strong_augmentation
    assert order['type'] == 'RandomOrder'
    assert [t['aug_num'] for t in order['transforms']] == [1, 1]
    assert erase['type'] == 'RandomErasing'
    assert tuple(erase['n_patches']) == (1, 5)
    assert tuple(erase['ratio']) == (0, 0.2) and erase['squared']
    # mmdet's default magnitudes are STAC's: 10 % translation, 30 degrees
    for op, mag in (('TranslateX', 0.1), ('Rotate', 30.0), ('ShearX', 30.0)):
        assert TRANSFORMS.build(dict(type=op)).max_mag == mag
