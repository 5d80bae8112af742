"""Ground truth beside predictions on an enlarged image."""
import mmcv
import numpy as np
import torch
from mmengine.structures import InstanceData

from ovd_ext.apis.visualize import coco_instances, draw_comparison, enlarge


def _coco():
    return {'images': [{'id': 7, 'width': 30, 'height': 20}],
            'categories': [{'id': 1, 'name': 'ring'},
                           {'id': 2, 'name': 'star'}],
            'annotations': [
                {'id': 1, 'image_id': 7, 'category_id': 2,
                 'bbox': [2, 3, 10, 8],
                 'segmentation': [[2, 3, 12, 3, 12, 11, 2, 11]]},
                {'id': 2, 'image_id': 8, 'category_id': 1,
                 'bbox': [0, 0, 5, 5], 'segmentation': []}]}


def test_coco_instances_map_names_and_decode_masks():
    inst = coco_instances(_coco(), 7, ['star', 'ring'], 20, 30)
    assert inst.labels.tolist() == [0]           # 'star' in the new order
    assert inst.bboxes.tolist() == [[2, 3, 12, 11]]
    assert inst.masks.shape == (1, 20, 30)
    assert 70 <= inst.masks.sum() <= 90           # the 10 x 8 polygon


def test_enlarge_scales_boxes_and_masks():
    inst = InstanceData(bboxes=torch.tensor([[1., 2., 3., 4.]]),
                        labels=torch.tensor([0]),
                        masks=np.ones((1, 2, 3), bool))
    big = enlarge(inst, 4)
    assert big.bboxes.tolist() == [[4, 8, 12, 16]]
    assert big.masks.shape == (1, 8, 12) and big.masks.all()


def test_draw_comparison_writes_two_enlarged_panels(tmp_path):
    img = np.full((20, 30, 3), 128, np.uint8)
    path = str(tmp_path / 'im.png')
    mmcv.imwrite(img, path)
    gt = coco_instances(_coco(), 7, ['ring', 'star'], 20, 30)
    pred = InstanceData(bboxes=torch.tensor([[2., 3., 12., 11.],
                                             [0., 0., 4., 4.]]),
                        labels=torch.tensor([0, 0]),
                        scores=torch.tensor([0.9, 0.1]))
    out = draw_comparison(path, gt, ['ring', 'star'], pred, ['donut'],
                          str(tmp_path / 'vis' / 'cmp.png'), scale=4)
    drawn = mmcv.imread(out)
    assert drawn.shape == (28 + 80, 2 * 120 + 8, 3)
    left, right = drawn[28:, :120], drawn[28:, 128:]
    # something was drawn on both panels, the low-score box was not
    assert (left != 128).any() and (right != 128).any()
    assert (right[:4, :4] == 128).all()
