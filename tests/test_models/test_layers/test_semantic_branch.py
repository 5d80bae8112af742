"""RichSem's semantic branch (Eq. 3-4): H_soft + Contrast + lambda_soft KL,
and its train-only weights."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ovd_ext.models.layers import SemanticBranch
from ovd_ext.models.losses import soft_label_kl
from ovd_ext.utils.train_only import is_train_only_key, strip_train_only


@pytest.fixture
def vocab(vocab_factory):
    return vocab_factory(['a', 'b', 'c', 'd'], dim=8)


def test_logits_are_scaled_cosines(vocab):
    torch.manual_seed(0)
    branch = SemanticBranch(12, vocab, num_fcs=0, logit_scale=10.0)
    branch.init_weights()
    x = torch.randn(5, 3, 2, 2)                     # flattened to 12
    region = F.normalize(branch.contrast.proj(x.flatten(1)), dim=-1)
    want = 10.0 * region @ branch.contrast.class_embeddings.t()
    assert torch.allclose(branch(x), want, atol=1e-6)
    assert branch(x).shape == (5, 4)                # no background column


def test_loss_is_weighted_kl_and_trains_h_soft(vocab):
    torch.manual_seed(0)
    branch = SemanticBranch(6, vocab, num_fcs=2, fc_channels=16,
                            logit_scale=5.0)
    branch.init_weights()
    x, t = torch.randn(3, 6), torch.randn(3, 4)
    loss = branch.loss(x, t)
    assert loss.item() == pytest.approx(
        0.5 * soft_label_kl(branch(x), t).item(), rel=1e-6)
    loss.backward()
    assert branch.fcs[0].weight.grad.abs().sum() > 0
    assert branch.loss(torch.zeros(0, 6), torch.zeros(0, 4)).item() == 0


def test_errors(vocab):
    branch = SemanticBranch(6, vocab, num_fcs=1, fc_channels=8)
    with pytest.raises(RuntimeError, match='logit_scale'):
        branch(torch.randn(2, 6))
    branch.logit_scale = 1.0
    with pytest.raises(ValueError, match='teacher scores 5 classes'):
        branch.loss(torch.randn(2, 6), torch.randn(2, 5))


def test_train_only_weights(vocab):
    model = torch.nn.Module()
    model.head = torch.nn.Linear(2, 2)
    model.semantic_branch = SemanticBranch(6, vocab, num_fcs=1,
                                           fc_channels=8, logit_scale=1.0)
    full = model.state_dict()
    assert any(is_train_only_key(k) for k in full)
    exported = strip_train_only(full)
    assert set(exported) == {'head.weight', 'head.bias'}
    # loading inference weights keeps the branch and reports nothing missing
    before = model.semantic_branch.fcs[0].weight.clone()
    result = model.load_state_dict(exported, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    assert torch.equal(model.semantic_branch.fcs[0].weight, before)
    # a training checkpoint (with the branch) still loads it
    full = {k: v.clone() for k, v in full.items()}
    full['semantic_branch.fcs.0.weight'] += 1
    model.load_state_dict(full)
    assert torch.allclose(model.semantic_branch.fcs[0].weight, before + 1)
