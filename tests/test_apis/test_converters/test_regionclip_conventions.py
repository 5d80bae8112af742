"""The box and anchor conventions the RegionCLIP converter relies on
(ovd_ext/apis/converters/regionclip.py docstring): detectron2's anchors and
box deltas equal mmdet's with the settings the converter reports."""
from __future__ import annotations

import pytest
import torch
from mmdet.registry import TASK_UTILS
from mmdet.utils import register_all_modules


def detectron2_cell_anchors(sizes, ratios) -> torch.Tensor:
    """detectron2's cell anchors, size-major: w = sqrt(s^2 / a), h = a * w
    (a = h / w), centred at 0."""
    out = []
    for s in sizes:
        for a in ratios:
            w = (s * s / a) ** 0.5
            out.append([-w / 2, -a * w / 2, w / 2, a * w / 2])
    return torch.tensor(out)


@pytest.mark.parametrize('sizes,scales,scale_major', [
    ([32, 64, 128, 256, 512], [2, 4, 8, 16, 32], False),   # R50-C4 RPN
    ([128], [8], True),                                     # one FPN level
])
def test_anchor_order_matches_detectron2(sizes, scales, scale_major):
    """The docstring's claim: detectron2 (OFFSET 0) == mmdet AnchorGenerator
    (center_offset 0, scale_major as the report says), positions (H, W, A)."""
    register_all_modules()
    ratios, stride = [0.5, 1.0, 2.0], 16
    gen = TASK_UTILS.build(dict(
        type='AnchorGenerator', strides=[stride], ratios=ratios,
        scales=scales, scale_major=scale_major))
    ours = gen.grid_priors([(2, 3)], device='cpu')[0]
    cell = detectron2_cell_anchors(sizes, ratios)
    ys, xs = torch.meshgrid(torch.arange(2.) * stride,
                            torch.arange(3.) * stride, indexing='ij')
    shifts = torch.stack([xs, ys, xs, ys], -1).reshape(-1, 1, 4)
    torch.testing.assert_close(ours, (shifts + cell).reshape(-1, 4))


def test_box_head_deltas_match_detectron2_weights():
    """detectron2 Box2BoxTransform weights (10, 10, 5, 5) == mmdet
    DeltaXYWHBBoxCoder target_stds (0.1, 0.1, 0.2, 0.2)."""
    register_all_modules()
    coder = TASK_UTILS.build(dict(type='DeltaXYWHBBoxCoder',
                                  target_means=[0.] * 4,
                                  target_stds=[.1, .1, .2, .2]))
    boxes = torch.tensor([[10., 20., 50., 100.], [0., 0., 8., 4.]])
    deltas = torch.tensor([[1., -2., .5, -.3], [-.4, .2, -1., .7]])
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    cx, cy = boxes[:, 0] + w / 2, boxes[:, 1] + h / 2
    dx, dy, dw, dh = (deltas / torch.tensor([10., 10., 5., 5.])).unbind(1)
    pcx, pcy = cx + dx * w, cy + dy * h
    pw, ph = w * dw.exp(), h * dh.exp()
    expected = torch.stack([pcx - pw / 2, pcy - ph / 2, pcx + pw / 2,
                            pcy + ph / 2], 1)
    torch.testing.assert_close(coder.decode(boxes, deltas), expected)
