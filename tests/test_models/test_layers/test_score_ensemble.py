"""DITO Eq. 2: geometric ensemble of detection and VLM scores (base classes
weighted by alpha, novel by beta, background from the detector alone)."""
import pytest
import torch

from ovd_ext.models.layers.score_ensemble import (ALPHA, BETA,
                                                  ensemble_scores,
                                                  vlm_probabilities)

# two regions, classes (a, b, c) + background; b is novel
DET = torch.tensor([[0.2, 0.3, 0.1, 0.4],
                    [0.6, 0.1, 0.1, 0.2]])
VLM = torch.tensor([[0.5, 0.25, 0.25],
                    [0.1, 0.7, 0.2]])
NOVEL = torch.tensor([False, True, False])


def test_paper_weights():
    assert (ALPHA, BETA) == (0.3, 0.65)


def test_eq2_against_hand_values():
    out = ensemble_scores(DET, VLM, NOVEL)
    # base: z^0.7 * p^0.3, novel: z^0.35 * p^0.65, background: p_bg
    expected = torch.tensor([
        [0.5**0.7 * 0.2**0.3, 0.25**0.35 * 0.3**0.65, 0.25**0.7 * 0.1**0.3,
         0.4],
        [0.1**0.7 * 0.6**0.3, 0.7**0.35 * 0.1**0.65, 0.2**0.7 * 0.1**0.3,
         0.2]])
    torch.testing.assert_close(out, expected)
    torch.testing.assert_close(out[0, :3], torch.tensor(
        [0.3798289, 0.2814543, 0.1899144]))
    torch.testing.assert_close(out[1, :3], torch.tensor(
        [0.1711770, 0.1975988, 0.1624505]))
    assert torch.equal(out[:, 3], DET[:, 3])


def test_extreme_weights():
    det_only = ensemble_scores(DET, VLM, NOVEL, alpha=1.0, beta=1.0)
    assert torch.equal(det_only, DET)
    vlm_only = ensemble_scores(DET, VLM, NOVEL, alpha=0.0, beta=0.0)
    assert torch.equal(vlm_only[:, :3], VLM)
    assert torch.equal(vlm_only[:, 3], DET[:, 3])
    # beta only touches the novel column
    a = ensemble_scores(DET, VLM, NOVEL, beta=0.0)
    b = ensemble_scores(DET, VLM, NOVEL, beta=1.0)
    assert torch.equal(a[:, [0, 2, 3]], b[:, [0, 2, 3]])
    assert torch.equal(a[:, 1], VLM[:, 1]) and torch.equal(b[:, 1], DET[:, 1])


def test_renormalize():
    plain = ensemble_scores(DET, VLM, NOVEL)
    out = ensemble_scores(DET, VLM, NOVEL, renormalize=True)
    torch.testing.assert_close(out.sum(1), torch.ones(2))
    torch.testing.assert_close(out, plain / plain.sum(1, keepdim=True))
    assert plain.sum(1).sub(1).abs().min() > 0.05     # it did something


def test_rpn_power():
    rpn = torch.tensor([0.5, 0.9])
    plain = ensemble_scores(DET, VLM, NOVEL)
    out = ensemble_scores(DET, VLM, NOVEL, rpn_scores=rpn, rpn_power=3)
    torch.testing.assert_close(out[:, :3], plain[:, :3] * torch.tensor(
        [[0.125], [0.729]]))
    assert torch.equal(out[:, 3], plain[:, 3])
    # renormalised first, then scaled (the official order)
    both = ensemble_scores(DET, VLM, NOVEL, renormalize=True,
                           rpn_scores=rpn, rpn_power=3)
    norm = plain / plain.sum(1, keepdim=True)
    torch.testing.assert_close(both[:, :3], norm[:, :3] * rpn[:, None] ** 3)
    assert torch.equal(ensemble_scores(DET, VLM, NOVEL, rpn_scores=rpn),
                       plain)
    with pytest.raises(ValueError, match='rpn_power needs the RPN scores'):
        ensemble_scores(DET, VLM, NOVEL, rpn_power=3)


def test_shape_errors():
    with pytest.raises(ValueError, match=r'det \(2, 3\), vlm \(2, 3\)'):
        ensemble_scores(DET[:, :3], VLM, NOVEL)
    with pytest.raises(ValueError, match=r'novel \(2,\)'):
        ensemble_scores(DET, VLM, NOVEL[:2])


def test_vlm_probabilities():
    region = torch.tensor([[1.0, 0.0], [0.6, 0.8]])
    classes = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    z = vlm_probabilities(region, classes, temperature=0.5)
    # softmax([2, 0]) and softmax([1.2, 1.6])
    torch.testing.assert_close(z, torch.tensor(
        [[0.8807971, 0.1192029], [0.4013123, 0.5986877]]))
