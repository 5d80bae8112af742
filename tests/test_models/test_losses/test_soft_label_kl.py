"""KL to soft labels (RichSem Eq. 4): direction, normalisation, gradients."""
import math

import pytest
import torch

from ovd_ext.models.losses import SoftLabelKLLoss, soft_label_kl
from ovd_ext.models.losses.region_text import concept_distillation

# teacher [0.75, 0.25], student uniform
T = torch.tensor([[math.log(3.0), 0.0]])
S = torch.zeros(1, 2)
KL_TS = 0.75 * math.log(0.75 / 0.5) + 0.25 * math.log(0.25 / 0.5)
KL_ST = 0.5 * math.log(0.5 / 0.75) + 0.5 * math.log(0.5 / 0.25)


def test_direction_is_teacher_to_student():
    assert soft_label_kl(S, T).item() == pytest.approx(KL_TS, abs=1e-6)
    assert abs(KL_TS - KL_ST) > 0.01          # the two directions differ
    assert soft_label_kl(T, S).item() == pytest.approx(KL_ST, abs=1e-6)


def test_mean_over_rows_and_avg_factor():
    s = torch.cat([S, T])                     # second row matches its target
    t = torch.cat([T, T])
    assert soft_label_kl(s, t).item() == pytest.approx(KL_TS / 2, abs=1e-6)
    assert soft_label_kl(s, t, avg_factor=4).item() == pytest.approx(
        KL_TS / 4, abs=1e-6)


def test_no_gradient_to_teacher_and_empty():
    s = S.clone().requires_grad_()
    t = T.clone().requires_grad_()
    soft_label_kl(s, t).backward()
    assert t.grad is None
    # d/ds KL = softmax(s) - softmax(t) = [0.5 - 0.75, 0.5 - 0.25]
    assert torch.allclose(s.grad, torch.tensor([[-0.25, 0.25]]), atol=1e-6)
    empty = torch.zeros(0, 3, requires_grad=True)
    assert soft_label_kl(empty, torch.zeros(0, 3)).item() == 0.0


def test_weight_shape_check_and_regionclip_form():
    assert SoftLabelKLLoss()(S, T).item() == pytest.approx(0.5 * KL_TS,
                                                            abs=1e-6)
    with pytest.raises(ValueError, match='differ in shape'):
        soft_label_kl(torch.zeros(2, 3), torch.zeros(2, 4))
    torch.manual_seed(0)
    s, t = torch.randn(5, 7), torch.randn(5, 7)
    assert concept_distillation(s, t, 0.1).item() == pytest.approx(
        soft_label_kl(s / 0.1, t / 0.1).item(), rel=1e-6)
