"""The one zero-shot scorer (ovd_ext.vlm.zero_shot): VL-PLM Eq. 5 (phi of
the summed scales, softmax with CLIP's temperature), background classes of
the label space (supplement B.3), on hand-computed inputs."""
import math

import pytest
import torch

from ovd_ext.vlm.zero_shot import (ZeroShotScorer, assign_labels,
                                   class_probabilities, classify,
                                   clip_logit_scale, combine_scales,
                                   zero_shot_logits)


def test_eq5_phi_of_summed_scales():
    e = torch.tensor([[[1.0, 0.0], [0.0, 1.0]],      # R, R_1.5x
                      [[0.6, 0.8], [0.6, 0.8]]])
    out = combine_scales(e)
    r = 1 / math.sqrt(2)
    assert torch.allclose(out, torch.tensor([[r, r], [0.6, 0.8]]))
    # weights (feature kinds): 3 * (1, 0) + 1 * (0, 1) -> (3, 1) / sqrt(10)
    w = combine_scales(e[:1], weights=(3.0, 1.0))
    assert torch.allclose(w, torch.tensor([[3.0, 1.0]]) / math.sqrt(10))
    with pytest.raises(ValueError, match='2 embeddings per region'):
        combine_scales(e, weights=(1.0,))
    with pytest.raises(ValueError, match=r'\[k, scales, D\]'):
        combine_scales(e[0])


def test_eq5_softmax_with_logit_scale():
    region = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    text = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    # scale ln 3: logits [ln3, 0] -> p = [3/4, 1/4]
    p = class_probabilities(region, text, math.log(3))
    assert torch.allclose(p, torch.tensor([[0.75, 0.25], [0.25, 0.75]]))
    # an extra (background) row takes part in the softmax: 3 / (3 + 1 + 1)
    p = class_probabilities(region[:1], torch.cat([text, text[1:]]),
                            math.log(3))
    assert p[0].tolist() == pytest.approx([0.6, 0.2, 0.2])
    with pytest.raises(ValueError, match='D=2 but text embeddings D=3'):
        class_probabilities(region, torch.ones(2, 3), 1.0)


def test_logits_and_classify():
    region = torch.tensor([[0.6, 0.8], [1.0, 0.0]])
    text = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.8, 0.6]])
    cos = zero_shot_logits(region, text)
    assert torch.allclose(cos, torch.tensor([[0.6, 0.8, 0.96],
                                             [1.0, 0.0, 0.8]]))
    assert torch.allclose(zero_shot_logits(region, text, 10.0), 10 * cos)
    assert classify(region, text).tolist() == [2, 0]
    # the temperature does not change the argmax
    assert classify(region, text, 100.0).tolist() == [2, 0]
    # bf16 inputs are scored in float32
    assert zero_shot_logits(region.bfloat16(), text).dtype == torch.float32


def test_regions_whose_argmax_is_an_extra_class_are_dropped():
    # label space: 1 target + base + background
    probs = torch.tensor([[0.5, 0.3, 0.1, 0.1],
                          [0.2, 0.6, 0.1, 0.1],
                          [0.1, 0.1, 0.1, 0.7],
                          [0.4, 0.4, 0.1, 0.1]])      # tie: first wins
    lab = assign_labels(probs, num_targets=1)
    assert lab.keep.tolist() == [True, False, False, True]
    assert lab.labels.tolist() == [0, 1, 3, 0]
    assert lab.max_prob.tolist() == pytest.approx([0.5, 0.6, 0.7, 0.4])
    for bad in (0, 5):
        with pytest.raises(ValueError, match='num_targets'):
            assign_labels(probs, bad)


def test_scorer_binds_text_temperature_and_targets(tiny_rn):
    text = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.8, 0.6]])
    scorer = ZeroShotScorer(text, math.log(3), num_targets=2)
    per_scale = torch.tensor([[[1.0, 0.0], [1.0, 0.0]],
                              [[0.8, 0.6], [0.8, 0.6]]])
    lab = scorer(per_scale)          # [k, S, D]: scales combined first
    assert lab.labels.tolist() == [0, 2] and lab.keep.tolist() == [True,
                                                                   False]
    # row 0: logits ln3 * (1, 0, .8) -> p0 = 3 / (3 + 1 + 3 ** .8)
    assert lab.max_prob[0].item() == pytest.approx(3 / (4 + 3 ** 0.8))
    assert torch.equal(scorer.probabilities(per_scale),
                       class_probabilities(combine_scales(per_scale), text,
                                           math.log(3)))
    with pytest.raises(ValueError, match='num_targets'):
        ZeroShotScorer(text, 1.0, num_targets=4)
    # a CLIP's own temperature exp(t)
    t = float(tiny_rn.model.logit_scale.exp())
    assert clip_logit_scale(tiny_rn) == pytest.approx(t)
    emb_text = torch.nn.functional.normalize(
        torch.randn(3, tiny_rn.embed_dim), dim=-1)
    assert ZeroShotScorer.from_clip(tiny_rn, emb_text).logit_scale == \
        pytest.approx(t)
    assert ZeroShotScorer.from_clip(tiny_rn, emb_text, 1,
                                    logit_scale=7.0).logit_scale == 7.0
