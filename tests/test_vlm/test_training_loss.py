"""Multi-positive symmetric InfoNCE on hand-computed inputs."""
import math

import pytest
import torch
import torch.nn.functional as F

from ovd_ext.vlm.training import (embedding_distill_loss, lr_factor,
                                  multi_positive_clip_loss,
                                  positive_mask, soft_targets, TrainConfig)


def test_distinct_keys_is_clip_infonce_by_hand():
    # logits = 2 * [[1, .6], [0, .8]] = [[2, 1.2], [0, 1.6]]
    img = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    txt = torch.tensor([[1.0, 0.0], [0.6, 0.8]])
    i2t = (math.log(1 + math.exp(-0.8)) + math.log(1 + math.exp(-1.6))) / 2
    t2i = (math.log(1 + math.exp(-2.0)) + math.log(1 + math.exp(-0.4))) / 2
    expected = (i2t + t2i) / 2                       # 0.298736
    assert expected == pytest.approx(0.298736, abs=1e-6)
    got = multi_positive_clip_loss(img, txt, 2.0)
    assert float(got) == pytest.approx(expected, abs=1e-6)
    # same as keys = arange and as the cross-entropy form of CLIP
    keys = torch.tensor([5, 7])
    assert float(multi_positive_clip_loss(img, txt, 2.0, keys)) == \
        pytest.approx(expected, abs=1e-6)
    logits = 2.0 * img @ txt.t()
    ce = (F.cross_entropy(logits, torch.arange(2))
          + F.cross_entropy(logits.t(), torch.arange(2))) / 2
    assert float(ce) == pytest.approx(expected, abs=1e-6)


def test_multi_positive_targets_by_hand():
    # two pairs of class 0, one of class 1; logits [[1,1,0],[1,1,0],[0,0,1]]
    e = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    keys = torch.tensor([0, 0, 1])
    row01 = math.log(2 * math.e + 1) - 1   # -(.5 log p + .5 log p), p=e/(2e+1)
    row2 = math.log(2 + math.e) - 1
    expected = (2 * row01 + row2) / 3        # both directions are equal here
    assert expected == pytest.approx(0.758487, abs=1e-5)
    assert float(multi_positive_clip_loss(e, e, 1.0, keys)) == \
        pytest.approx(expected, abs=1e-6)


def test_same_class_texts_are_interchangeable():
    """Positives of one key may swap texts without changing the loss; plain
    InfoNCE (duplicates as negatives) does change."""
    g = torch.Generator().manual_seed(0)
    img = F.normalize(torch.randn(4, 8, generator=g), dim=1)
    txt = F.normalize(torch.randn(4, 8, generator=g), dim=1)
    swapped = txt[[1, 0, 2, 3]]
    keys = torch.tensor([0, 0, 1, 2])
    a = multi_positive_clip_loss(img, txt, 5.0, keys)
    b = multi_positive_clip_loss(img, swapped, 5.0, keys)
    assert float(a) == pytest.approx(float(b), abs=1e-6)
    assert abs(float(multi_positive_clip_loss(img, txt, 5.0))
               - float(multi_positive_clip_loss(img, swapped, 5.0))) > 1e-2


def test_mask_and_targets():
    m = positive_mask(torch.tensor([3, 1, 3, 2]))
    assert m.tolist() == [[True, False, True, False], [False, True, False,
                                                       False],
                          [True, False, True, False], [False, False, False,
                                                       True]]
    t = soft_targets(m)
    assert t[0].tolist() == [0.5, 0.0, 0.5, 0.0]
    assert torch.allclose(t.sum(1), torch.ones(4))


def test_loss_errors_and_gradient_direction():
    with pytest.raises(ValueError, match='equal shape'):
        multi_positive_clip_loss(torch.zeros(2, 3), torch.zeros(3, 3), 1.0)
    with pytest.raises(ValueError, match='3 keys'):
        multi_positive_clip_loss(torch.zeros(2, 3), torch.zeros(2, 3), 1.0,
                                 torch.zeros(3))
    # a positive pair pulled together lowers the loss
    img = F.normalize(torch.tensor([[1.0, 0.2], [0.1, 1.0]]), dim=1)
    txt = F.normalize(torch.tensor([[0.5, 0.5], [0.5, 0.6]]), dim=1)
    better = F.normalize(torch.tensor([[1.0, 0.1], [0.5, 0.6]]), dim=1)
    assert multi_positive_clip_loss(img, better, 10.0) < \
        multi_positive_clip_loss(img, txt, 10.0)


def test_lr_schedule_warmup_then_cosine():
    cfg = TrainConfig(steps=100, warmup_frac=0.1, min_lr_frac=0.0)
    assert lr_factor(0, cfg) == pytest.approx(0.1)
    assert lr_factor(9, cfg) == pytest.approx(1.0)
    assert lr_factor(10, cfg) == pytest.approx(1.0)
    assert lr_factor(55, cfg) == pytest.approx(0.5)
    assert lr_factor(100, cfg) == pytest.approx(0.0, abs=1e-9)


def test_embedding_distill_loss_by_hand():
    s = torch.tensor([[1.0, 0.0], [0.0, 1.0]], requires_grad=True)
    t = torch.tensor([[0.6, 0.8], [0.0, 1.0]], requires_grad=True)
    loss = embedding_distill_loss(s, t)
    assert loss.item() == pytest.approx(((1 - 0.6) + 0.0) / 2)
    loss.backward()
    assert t.grad is None                     # the teacher is only a target
    assert torch.allclose(s.grad, torch.tensor([[-0.3, -0.4], [0.0, -0.5]]))
    with pytest.raises(ValueError, match='differ in shape'):
        embedding_distill_loss(s, t[:1])
