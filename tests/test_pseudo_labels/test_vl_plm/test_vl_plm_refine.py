"""Repeated RoI-head box refinement (VL-PLM Sec. 3.2, Fig. 3b) and the RPN
settings of the proposal generator."""
import math

import numpy as np
import torch
from mmdet.models.task_modules.coders import DeltaXYWHBBoxCoder

from ovd_ext.pseudo_labels.vl_plm.proposals import (inference_pipeline,
                                                    preprocess, propose,
                                                    refine_boxes,
                                                    rpn_proposals)


class StubHead:
    """RoI head whose regressor always predicts the same deltas; it records
    the RoIs it is asked to pool."""

    def __init__(self, deltas, num_classes=1):
        self.deltas = torch.tensor(deltas, dtype=torch.float)
        self.num_classes = num_classes
        self.bbox_head = type('H', (), {})()
        self.bbox_head.bbox_coder = DeltaXYWHBBoxCoder(
            target_means=[0.] * 4, target_stds=[1.] * 4)
        self.seen = []

    def _bbox_forward(self, feats, rois):
        self.seen.append(rois.clone())
        k = len(rois)
        return {'bbox_pred': self.deltas.repeat(k, self.num_classes)}


def test_zero_iterations_keep_the_rpn_boxes():
    head = StubHead([0.1, 0.0, 0.0, 0.0])
    boxes = torch.tensor([[10., 10., 30., 20.]])
    assert torch.equal(refine_boxes(head, None, boxes, (100, 100), 0), boxes)
    assert head.seen == []


def test_each_iteration_applies_the_regression_at_the_new_box():
    # dx = 0.1 (of the width), dw = log 1.1: centre moves right by 0.1 w and
    # the width grows by 10 % per pass; y unchanged
    head = StubHead([0.1, 0.0, math.log(1.1), 0.0])
    boxes = torch.tensor([[10., 10., 30., 20.]])      # cx 20, w 20
    one = refine_boxes(head, None, boxes, (100, 100), 1)
    assert torch.allclose(one, torch.tensor([[11., 10., 33., 20.]]))
    two = refine_boxes(head, None, boxes, (100, 100), 2)
    # pass 2 starts from cx 22, w 22: cx 24.2, w 24.2
    assert torch.allclose(two, torch.tensor([[12.1, 10., 36.3, 20.]]))
    # pass 2 pooled features at the refined box of pass 1
    assert torch.allclose(head.seen[-1][:, 1:], one)
    assert head.seen[-1][0, 0] == 0                  # image index


def test_refined_boxes_stay_in_the_image():
    head = StubHead([1.0, 0.0, 0.0, 0.0])
    out = refine_boxes(head, None, torch.tensor([[60., 0., 90., 10.]]),
                       (50, 100), 3)
    assert out[0, 2] == 100 and out[0, 0] <= 100


def test_class_specific_regressors_are_averaged():
    head = StubHead([0.1, 0.0, 0.0, 0.0], num_classes=1)
    head.deltas = torch.tensor([0.1, 0., 0., 0., -0.3, 0., 0., 0.])
    out = refine_boxes(head, None, torch.tensor([[10., 10., 30., 20.]]),
                       (100, 100), 1)
    # decoded cx: 22 and 14 -> mean 18, width 20
    assert torch.allclose(out, torch.tensor([[8., 10., 28., 20.]]))


def test_real_roi_head_refinement(proposal_generator):
    model = proposal_generator
    head = model.roi_head.bbox_head
    img = np.full((96, 128, 3), 127, dtype=np.uint8)
    batch = preprocess(model, inference_pipeline(model.cfg), img)
    with torch.no_grad():
        feats = model.extract_feat(batch['inputs'])
    saved = head.fc_reg.weight.clone(), head.fc_reg.bias.clone()
    try:
        with torch.no_grad():
            head.fc_reg.weight.zero_()
            # target_stds (0.1, 0.1, 0.2, 0.2): raw 1.0 -> dx = 0.1
            head.fc_reg.bias.copy_(torch.tensor([1.0, 0., 0., 0.]))
        boxes = torch.tensor([[20., 20., 40., 40.]])
        shape = tuple(batch['data_samples'][0].metainfo['img_shape'])
        out = refine_boxes(model.roi_head, feats, boxes, shape, 3)
        # cx 30 -> 32 -> 34 -> 36, width 20 kept
        assert torch.allclose(out, torch.tensor([[26., 20., 46., 40.]]),
                              atol=1e-4)
    finally:
        with torch.no_grad():
            head.fc_reg.weight.copy_(saved[0])
            head.fc_reg.bias.copy_(saved[1])


def test_rpn_nms_and_topk(proposal_generator):
    model = proposal_generator
    img = np.random.default_rng(0).integers(0, 255, (96, 128, 3), np.uint8)
    batch = preprocess(model, inference_pipeline(model.cfg), img)
    meta = batch['data_samples'][0].metainfo
    with torch.no_grad():
        feats = model.extract_feat(batch['inputs'])
        boxes, scores = rpn_proposals(model, feats, meta, topk=50, nms_iou=0.3)
    assert len(boxes) == 50
    assert torch.all(scores[:-1] >= scores[1:])           # sorted
    assert ((scores > 0) & (scores < 1)).all()           # sigmoid objectness
    from torchvision.ops import box_iou
    iou = box_iou(boxes, boxes).fill_diagonal_(0)
    assert iou.max() <= 0.3 + 1e-6                        # NMS at 0.3
    # propose(): boxes back in original pixels, refined != raw for N > 0
    props = propose(model, inference_pipeline(model.cfg), img, topk=50,
                    refine_iters=2)
    assert props.boxes.shape == props.rpn_boxes.shape == (50, 4)
    assert props.boxes[:, 2].max() <= 128 and props.boxes[:, 3].max() <= 96
    assert not torch.allclose(props.boxes, props.rpn_boxes)
    same = propose(model, inference_pipeline(model.cfg), img, topk=50,
                   refine_iters=0)
    assert torch.equal(same.boxes, same.rpn_boxes)
    assert torch.allclose(same.rpn_scores, props.rpn_scores)
