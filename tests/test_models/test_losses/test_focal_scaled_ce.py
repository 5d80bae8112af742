import math

import pytest
import torch
import torch.nn.functional as F

from ovd_ext.models.losses import FocalScaledCrossEntropyLoss


def test_plain_ce_when_gamma_zero_and_bg_weight_one():
    logits = torch.randn(6, 4)
    labels = torch.tensor([0, 1, 2, 3, 3, 1])
    loss = FocalScaledCrossEntropyLoss()(logits, labels)
    torch.testing.assert_close(loss, F.cross_entropy(logits, labels))


def test_hand_computed_focal_and_background_weight():
    # two regions, 2 classes + background (index 2)
    logits = torch.tensor([[2.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    labels = torch.tensor([0, 2])
    loss_fn = FocalScaledCrossEntropyLoss(focal_gamma=0.5, bg_weight=0.2,
                                          reduction='none')
    out = loss_fn(logits, labels)
    p0 = math.exp(2) / (math.exp(2) + 2)
    p_bg = math.e / (math.e + 2)
    expected = torch.tensor([(1 - p0) ** 0.5 * -math.log(p0),
                             0.2 * -math.log(p_bg)])  # no focal term on bg
    torch.testing.assert_close(out, expected)
    # mean reduction with mmdet's avg_factor
    mean = FocalScaledCrossEntropyLoss(0.5, 0.2)(logits, labels, avg_factor=4.0)
    torch.testing.assert_close(mean, expected.sum() / 4)


def test_lower_background_weight_lowers_loss():
    logits = torch.randn(50, 5)
    labels = torch.randint(0, 5, (50,))
    full = FocalScaledCrossEntropyLoss(bg_weight=1.0)(logits, labels)
    low = FocalScaledCrossEntropyLoss(bg_weight=0.2)(logits, labels)
    assert low < full


def test_negative_parameters_rejected():
    with pytest.raises(ValueError):
        FocalScaledCrossEntropyLoss(focal_gamma=-1)


def test_gradients_finite_when_a_region_is_certain():
    # at RegionCLIP's logit scale (100) a confident region has p == 1 in
    # float32; d(1 - p)^0.5 / dp is infinite there and used to give NaN
    # gradients, for foreground and (masked) background rows alike
    logits = torch.tensor([[100.0, -100.0, 0.0], [0.0, -50.0, 100.0],
                           [1.0, 0.5, 0.0]], requires_grad=True)
    labels = torch.tensor([0, 2, 1])
    loss = FocalScaledCrossEntropyLoss(focal_gamma=0.5, bg_weight=0.2)(
        logits, labels)
    loss.backward()
    assert torch.isfinite(loss)
    assert torch.isfinite(logits.grad).all()
    # the certain rows contribute (almost) nothing, the uncertain one does
    assert logits.grad[:2].abs().max() < 1e-6
    assert logits.grad[2].abs().max() > 1e-2
