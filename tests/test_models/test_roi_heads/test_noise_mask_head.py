"""XPM's robust-student mask head (Sec. 3.2.3-3.2.4): the reparametrised BCE
of Eq. 6, the reliability of Eq. 7, the detached noise head and its
initialisation."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmdet.registry import MODELS

import ovd_ext  # noqa: F401
from ovd_ext.models.roi_heads.noise_mask_head import (
    ETA, NoiseEstimatingMaskHead, PixelNoiseHead, reliability,
    reparametrised_bce)


def build_head(**kwargs):
    cfg = dict(type='NoiseEstimatingMaskHead', num_convs=2, roi_feat_size=4,
               in_channels=8, conv_out_channels=8, class_agnostic=True)
    cfg.update(kwargs)
    torch.manual_seed(0)
    return MODELS.build(cfg)


def softplus(x: float) -> float:
    return math.log1p(math.exp(x))


# ------------------------------------------------------------------ Eq. 6
def test_reparametrised_bce_hand_value():
    # logit 0, variance 4 (sigma 2), z = 0.5: the noisy logit is 1
    logits = torch.zeros(1, 1, 1, 2)
    log_var = torch.full_like(logits, math.log(4.0))
    noise = torch.full_like(logits, 0.5)
    targets = torch.tensor([[[[1.0, 0.0]]]])
    loss = reparametrised_bce(logits, log_var, targets, noise)
    # BCE(1 | 1) = softplus(-1), BCE(0 | 1) = softplus(1), mean of the two
    assert loss.item() == pytest.approx((softplus(-1) + softplus(1)) / 2,
                                        abs=1e-6)
    assert loss.item() == pytest.approx(0.8132617, abs=1e-6)


def test_reparametrised_bce_equals_bce_of_the_noisy_logits():
    torch.manual_seed(1)
    logits = torch.randn(3, 1, 5, 5)
    log_var = torch.randn(3, 1, 5, 5)
    noise = torch.randn(3, 1, 5, 5)
    targets = torch.rand(3, 1, 5, 5) > 0.5       # bool targets accepted
    loss = reparametrised_bce(logits, log_var, targets, noise)
    expected = F.binary_cross_entropy_with_logits(
        logits + torch.exp(0.5 * log_var) * noise, targets.float())
    torch.testing.assert_close(loss, expected)
    # no noise (variance -> 0): Eq. 6 is Eq. 5, the plain BCE
    quiet = reparametrised_bce(logits, torch.full_like(log_var, -80.0),
                               targets)
    torch.testing.assert_close(quiet, F.binary_cross_entropy_with_logits(
        logits, targets.float()))


def test_reparametrised_bce_samples_fresh_noise():
    logits, log_var = torch.zeros(2, 1, 4, 4), torch.zeros(2, 1, 4, 4)
    t = torch.ones(2, 1, 4, 4)
    torch.manual_seed(3)
    a = reparametrised_bce(logits, log_var, t)
    torch.manual_seed(3)
    z = torch.randn_like(logits)
    torch.testing.assert_close(a, reparametrised_bce(logits, log_var, t, z))
    assert a.item() != reparametrised_bce(logits, log_var, t).item()


def test_reparametrised_bce_gradient_reaches_the_log_variance():
    # d/ds BCE(t | x + exp(s/2) z) = (sigmoid(x') - t) * exp(s/2) z / 2,
    # averaged over the 2 pixels
    logits = torch.zeros(1, 1, 1, 2, requires_grad=True)
    log_var = torch.full((1, 1, 1, 2), math.log(4.0), requires_grad=True)
    noise = torch.full((1, 1, 1, 2), 0.5)
    targets = torch.tensor([[[[1.0, 0.0]]]])
    reparametrised_bce(logits, log_var, targets, noise).backward()
    s1 = 1 / (1 + math.exp(-1))
    expected = torch.tensor([(s1 - 1) * 0.5, s1 * 0.5]) / 2
    torch.testing.assert_close(log_var.grad.flatten(), expected)
    torch.testing.assert_close(logits.grad.flatten(),
                               torch.tensor([s1 - 1, s1]) / 2)


# ------------------------------------------------------------------ Eq. 7
def test_reliability_hand_values():
    log_var = torch.full((3, 1, 4, 4), math.log(2.0))
    torch.testing.assert_close(reliability(log_var, 0.01),
                               torch.full((3,), 0.005))
    # object 0: half the pixels variance 1, half variance 3 -> mean 2
    # object 1: variance 4 everywhere -> eta / 4
    lv = torch.zeros(2, 1, 2, 2)
    lv[0, 0, 0] = math.log(3.0)
    lv[1] = math.log(4.0)
    torch.testing.assert_close(reliability(lv, 0.2),
                               torch.tensor([0.1, 0.05]))
    # default eta is the paper's 0.01
    assert ETA == 0.01
    torch.testing.assert_close(reliability(torch.zeros(1, 1, 3, 3)),
                               torch.tensor([0.01]))


def test_reliability_is_detached():
    log_var = torch.zeros(2, 1, 3, 3, requires_grad=True)
    alpha = reliability(log_var * 2, 0.01)
    assert alpha.requires_grad is False and alpha.grad_fn is None
    assert alpha.shape == (2,)


# ------------------------------------------------------ head and gradients
def test_noise_head_init_and_shapes():
    torch.manual_seed(0)
    head = PixelNoiseHead(256)
    assert torch.all(head.conv.bias == 1.0)
    assert head.conv.weight.shape == (1, 256, 1, 1)
    assert 0.7e-3 < head.conv.weight.std().item() < 1.3e-3
    assert abs(head.conv.weight.mean().item()) < 3e-4
    # at init the log-variance is ~1 everywhere: variance ~e
    out = head(torch.randn(2, 256, 7, 7))
    assert out.shape == (2, 1, 7, 7)
    assert torch.allclose(out, torch.ones_like(out), atol=0.1)
    custom = PixelNoiseHead(4, init_std=0.0, init_bias=-2.0)
    assert torch.all(custom.conv.weight == 0) and torch.all(
        custom.conv.bias == -2.0)


def test_mask_head_init_weights_keeps_the_noise_init():
    head = build_head(in_channels=64, conv_out_channels=64)
    head.init_weights()                 # what the runner calls
    assert torch.all(head.noise_head.conv.bias == 1.0)
    assert 0.6e-3 < head.noise_head.conv.weight.std().item() < 1.4e-3


def test_head_outputs_and_test_time_forward():
    head = build_head()
    assert isinstance(head, NoiseEstimatingMaskHead)
    x = torch.randn(3, 8, 4, 4)
    logits, log_var = head.forward_with_noise(x)
    assert logits.shape == log_var.shape == (3, 1, 8, 8)   # deconv x2
    # test-time forward is FCNMaskHead's: the same logits, no noise
    torch.testing.assert_close(head(x), logits)
    # the noise head reads the input of conv_logits
    feats = head.features(x)
    torch.testing.assert_close(head.conv_logits(feats), logits)
    torch.testing.assert_close(head.noise_head(feats), log_var)


def test_loss_trains_both_mask_logits_and_noise_head():
    head = build_head()
    x = torch.randn(3, 8, 4, 4)
    logits, log_var = head.forward_with_noise(x)
    targets = torch.rand(3, 1, 8, 8) > 0.5
    torch.manual_seed(0)
    reparametrised_bce(logits, log_var, targets).backward()
    for p in (head.conv_logits.weight, head.conv_logits.bias,
              head.noise_head.conv.weight, head.noise_head.conv.bias,
              head.convs[0].conv.weight):
        assert p.grad is not None and p.grad.abs().sum() > 0


def test_noise_branch_is_detached_from_the_mask_features():
    head = build_head()
    x = torch.randn(3, 8, 4, 4, requires_grad=True)
    _, log_var = head.forward_with_noise(x)
    log_var.exp().mean().backward()       # a loss of the noise branch only
    assert head.noise_head.conv.weight.grad.abs().sum() > 0
    assert head.noise_head.conv.bias.grad.abs().sum() > 0
    for p in [*head.convs.parameters(), *head.upsample.parameters(),
              *head.conv_logits.parameters()]:
        assert p.grad is None or torch.all(p.grad == 0)
    assert x.grad is None
    # whereas the mask logits do reach the convs
    head.zero_grad()
    logits, _ = head.forward_with_noise(x)
    logits.mean().backward()
    assert head.convs[0].conv.weight.grad.abs().sum() > 0
    assert x.grad is not None


def test_class_specific_head_is_refused():
    with pytest.raises(ValueError, match='class_agnostic=True'):
        build_head(class_agnostic=False, num_classes=3)
    # one class is the same as class-agnostic
    head = build_head(class_agnostic=False, num_classes=1)
    assert head.conv_logits.out_channels == 1


def test_exported_weights_drop_the_noise_head_and_load_into_fcn_head():
    """The noise head is train-only: exported weights have no noise_head
    keys, load strictly into mmdet's FCNMaskHead with the same test-time
    output, and load back into the noise head without a missing-key report
    (the built noise weights are kept)."""
    from ovd_ext.utils.train_only import strip_train_only
    head = build_head().eval()
    state = strip_train_only(head.state_dict())
    assert state and not any('noise_head' in k for k in state)
    assert len(state) == len(head.state_dict()) - 2   # conv weight + bias
    cfg = dict(type='FCNMaskHead', num_convs=2, in_channels=8,
               conv_out_channels=8, num_classes=1, class_agnostic=True)
    plain = MODELS.build(cfg).eval()
    plain.load_state_dict(state, strict=True)
    x = torch.randn(3, 8, 14, 14)
    torch.testing.assert_close(plain(x), head(x))
    other = build_head()
    before = other.noise_head.conv.weight.clone()
    result = other.load_state_dict(state, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    torch.testing.assert_close(other.noise_head.conv.weight, before)
