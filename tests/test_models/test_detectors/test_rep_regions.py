"""REP's random regions and RPN-centre targets (DITO Sec. 3.2): box sizes
h, w ~ U(0.2, 0.5) with h / w in [0.5, 2], boxes inside the image, and an
L1 objectness loss that reaches the RoI-centre cells only."""
import pytest
import torch

from ovd_ext.models.detectors.rep_regions import (NUM_BOXES, centre_cells,
                                                  rpn_centre_loss,
                                                  sample_region_boxes,
                                                  sample_relative_sizes)

N = 20000


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_paper_box_counts():
    assert NUM_BOXES == (400, 200, 100, 50)


def test_relative_size_statistics():
    hw = sample_relative_sizes(N, generator=gen())
    assert hw.shape == (N, 2)
    h, w = hw[:, 0], hw[:, 1]
    assert h.min() >= 0.2 and h.max() <= 0.5
    assert w.min() >= 0.2 and w.max() <= 0.5
    ratio = h / w
    assert ratio.min() >= 0.5 and ratio.max() <= 2.0
    # uniform over the square minus the two corner triangles of area
    # 0.0025 each (h < w / 2 and w < h / 2): E[h] = E[w] = 0.3505
    assert abs(float(h.mean()) - 0.3505) < 0.01
    assert abs(float(w.mean()) - 0.3505) < 0.01
    # P(h < 0.25) = (0.05 * 0.3 - 0.0025) / 0.085 = 0.147 (0.167 without
    # the aspect condition)
    assert abs(float((h < 0.25).float().mean()) - 0.147) < 0.01
    # the corners near the aspect limits are reached
    assert ratio.min() < 0.52 and ratio.max() > 1.95
    # seeded: the same generator state gives the same sizes
    assert torch.equal(sample_relative_sizes(N, generator=gen()), hw)
    assert not torch.equal(sample_relative_sizes(N, generator=gen(1)), hw)


def test_relative_size_options_and_errors():
    hw = sample_relative_sizes(500, (0.1, 0.2), (0.9, 1.1),
                               generator=gen())
    assert hw.shape == (500, 2)
    assert hw.min() >= 0.1 and hw.max() <= 0.2
    ratio = hw[:, 0] / hw[:, 1]
    assert ratio.min() >= 0.9 and ratio.max() <= 1.1
    with pytest.raises(ValueError, match='must lie in'):
        sample_relative_sizes(4, (0.0, 0.5))
    with pytest.raises(ValueError, match='no size in'):
        sample_relative_sizes(4, (0.2, 0.25), (3.0, 4.0))


def test_region_boxes_inside_the_image():
    img_h, img_w = 200, 300
    boxes = sample_region_boxes(N, (img_h, img_w), generator=gen(2))
    assert boxes.shape == (N, 4)
    x1, y1, x2, y2 = boxes.unbind(1)
    assert x1.min() >= 0 and y1.min() >= 0
    assert x2.max() <= img_w + 1e-3 and y2.max() <= img_h + 1e-3
    w, h = (x2 - x1) / img_w, (y2 - y1) / img_h
    assert w.min() >= 0.2 - 1e-6 and w.max() <= 0.5 + 1e-6
    assert h.min() >= 0.2 - 1e-6 and h.max() <= 0.5 + 1e-6
    # the aspect condition is on the fractions of the image sides
    ratio = h / w
    assert ratio.min() >= 0.5 - 1e-5 and ratio.max() <= 2.0 + 1e-5
    assert abs(float(h.mean()) - 0.3505) < 0.01
    # placed uniformly: centres average to the image centre, the boxes
    # reach both borders
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    assert abs(float(cx.mean()) - img_w / 2) < 2
    assert abs(float(cy.mean()) - img_h / 2) < 2
    assert x1.min() < 1 and x2.max() > img_w - 1
    assert torch.equal(sample_region_boxes(N, (img_h, img_w),
                                           generator=gen(2)), boxes)


def test_centre_cells():
    boxes = torch.tensor([
        [0.0, 0.0, 8.0, 8.0],       # centre (4, 4): cell (1, 1)
        [0.0, 0.0, 7.8, 7.8],       # centre (3.9, 3.9): cell (0, 0)
        [10.0, 2.0, 30.0, 6.0],     # centre (20, 4): row 1, col 5
        [-20.0, -20.0, -2.0, -2.0],  # clamped to (0, 0)
        [60.0, 90.0, 100.0, 130.0]])  # centre (80, 110): clamped (7, 9)
    rows, cols = centre_cells(boxes, 4, (8, 10))
    assert rows.dtype == torch.long and cols.dtype == torch.long
    assert rows.tolist() == [1, 0, 1, 0, 7]
    assert cols.tolist() == [1, 0, 5, 0, 9]
    rows, cols = centre_cells(boxes[:3], 8, (8, 10))
    assert rows.tolist() == [0, 0, 0] and cols.tolist() == [0, 0, 2]


def test_rpn_centre_loss_value_and_gradient():
    torch.manual_seed(0)
    obj = torch.randn(2, 3, 4, 5, requires_grad=True)
    batch_idx = torch.tensor([0, 0, 1, 1])
    rows = torch.tensor([0, 2, 3, 2])
    cols = torch.tensor([1, 4, 0, 4])
    target = torch.tensor([0.0, 0.25, 0.9, 1.0])
    loss = rpn_centre_loss(obj, batch_idx, rows, cols, target)
    # L1 over every anchor of each centre cell, averaged over 4 x 3 terms
    hand = 0.0
    probs = torch.sigmoid(obj.detach())
    for b, r, c, t in zip(batch_idx, rows, cols, target):
        for a in range(3):
            hand += abs(float(probs[b, a, r, c]) - float(t))
    assert loss.item() == pytest.approx(hand / 12, abs=1e-6)
    loss.backward()
    grad = obj.grad
    centres = torch.zeros(2, 4, 5, dtype=torch.bool)
    centres[batch_idx, rows, cols] = True
    nonzero = grad != 0
    assert torch.equal(nonzero, centres[:, None].expand(-1, 3, -1, -1))
    # d|sigmoid(o) - t| / do = sign * sigmoid'(o) / 12
    s = torch.sigmoid(obj.detach()[0, :, 0, 1])
    torch.testing.assert_close(grad[0, :, 0, 1], s * (1 - s) / 12)
    s = torch.sigmoid(obj.detach()[1, :, 2, 4])
    torch.testing.assert_close(grad[1, :, 2, 4], -s * (1 - s) / 12)
