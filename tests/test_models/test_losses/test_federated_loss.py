import json

import pytest
import torch
import torch.nn.functional as F

from ovd_ext.models.losses import (FederatedSigmoidLoss, load_class_frequency,
                                   sample_federated_classes)


def test_sampling_keeps_present_classes_and_skips_zero_weight():
    weight = torch.tensor([1., 1., 0., 4., 9., 1., 1., 1.])
    labels = torch.tensor([1, 1, 5, 8])   # 8 = background
    gen = torch.Generator().manual_seed(0)
    for _ in range(20):
        chosen = sample_federated_classes(labels, weight, 4, generator=gen)
        assert chosen.numel() == 4
        assert {1, 5} <= set(chosen.tolist())
        assert 2 not in chosen.tolist()
        assert chosen.tolist() == sorted(chosen.tolist())


def test_sampling_follows_frequency():
    weight = torch.tensor([100., 1., 1., 1.])
    gen = torch.Generator().manual_seed(0)
    hits = sum(0 in sample_federated_classes(torch.tensor([4]), weight, 1,
                                             generator=gen).tolist()
               for _ in range(200))
    assert hits > 180  # p = 100/103


def test_loss_equals_bce_over_all_classes_when_all_sampled():
    logits = torch.randn(5, 4)          # 3 classes + bg
    labels = torch.tensor([0, 2, 3, 3, 1])
    loss_fn = FederatedSigmoidLoss([1, 1, 1], num_sample_classes=50)
    target = F.one_hot(labels, 4)[:, :3].float()
    expected = F.binary_cross_entropy_with_logits(
        logits[:, :3], target, reduction='sum') / 5
    torch.testing.assert_close(loss_fn(logits, labels), expected)
    scores = loss_fn.get_activation(logits)
    torch.testing.assert_close(scores[:, :3], logits[:, :3].sigmoid())
    assert torch.all(scores[:, 3] == 0)


def test_frequency_from_lvis_json_and_exclusion(tmp_path):
    path = tmp_path / 'lvis.json'
    cats = [dict(id=2, name='b', image_count=16, frequency='c'),
            dict(id=1, name='a', image_count=4, frequency='f'),
            dict(id=3, name='c', image_count=1, frequency='r')]
    path.write_text(json.dumps(dict(categories=cats)))
    torch.testing.assert_close(load_class_frequency(str(path)),
                               torch.tensor([2., 4., 1.]))
    loss_fn = FederatedSigmoidLoss(str(path), excluded_classes=[2])
    assert loss_fn.freq_weight.tolist() == [2., 4., 0.]
    with pytest.raises(ValueError, match='no category named'):
        load_class_frequency(str(path), ['a', 'zzz'])
    with pytest.raises(ValueError, match='3 classes'):
        loss_fn.get_cls_channels(5)
