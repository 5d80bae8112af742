"""XPM's cross-modal alignment (Eq. 2) and pseudo masks (Eq. 4): argmax
regions per word, the >= 0 threshold, pasting RoI mask logits into the
image, RLE encoding and the stored score."""
import math

import numpy as np
import pytest
import torch
from pycocotools import mask as mask_utils

from ovd_ext.pseudo_labels.xpm import (align_words, alignment_score,
                                       binarize_mask_logits, encode_masks,
                                       paste_mask_logits)


def test_align_words_picks_the_best_region_per_word():
    regions = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])   # [R=3, D]
    words = torch.tensor([[0.8, 0.6], [0.0, -1.0], [0.0, 1.0]])    # [W=3, D]
    # scores v_o^T h(f_r), regions x words:
    #   r0: 0.8, 0.0, 0.0 | r1: 0.6, -1.0, 1.0 | r2: 0.96, -0.8, 0.8
    idx, score = align_words(regions, words)
    assert idx.tolist() == [2, 0, 1]
    torch.testing.assert_close(score, torch.tensor([0.96, 0.0, 1.0]))
    # one region: every word gets it
    idx, score = align_words(regions[1:2], words)
    assert idx.tolist() == [0, 0, 0]
    torch.testing.assert_close(score, torch.tensor([0.6, -1.0, 1.0]))


def test_align_words_uses_the_inner_product_not_the_cosine():
    # Eq. 2 is v_o^T h_Emb(f_r): a longer region vector wins
    regions = torch.tensor([[1.0, 0.0], [2.0, 1.0]])
    idx, score = align_words(regions, torch.tensor([[1.0, 0.0]]))
    assert idx.tolist() == [1] and score.tolist() == [2.0]


@pytest.mark.parametrize('regions, words', [
    (torch.zeros(3), torch.zeros(2, 3)),          # regions not [R, D]
    (torch.zeros(3, 4), torch.zeros(4)),          # words not [W, D]
    (torch.zeros(3, 4), torch.zeros(2, 5)),       # D differs
])
def test_align_words_shape_errors(regions, words):
    with pytest.raises(ValueError, match=r'\[R, D\] regions and \[W, D\]'):
        align_words(regions, words)


def test_align_words_without_regions_is_an_error():
    with pytest.raises(ValueError, match='no regions'):
        align_words(torch.zeros(0, 4), torch.zeros(2, 4))


def test_binarize_keeps_exactly_zero_as_foreground():
    logits = torch.tensor([-1e-6, 0.0, -0.0, 1e-6, -3.0, 2.0])
    out = binarize_mask_logits(logits)
    assert out.dtype == torch.bool
    assert out.tolist() == [False, True, True, True, False, True]
    # probability 0.5 is the boundary: sigmoid(0) = 0.5 -> foreground
    assert binarize_mask_logits(torch.zeros(2, 3, 3)).all()


def test_paste_is_foreground_exactly_inside_the_box():
    logits = torch.full((1, 1, 4, 4), 5.0)
    pasted = paste_mask_logits(logits, torch.tensor([[2.0, 2.0, 6.0, 6.0]]),
                               8, 8)
    assert pasted.shape == (1, 8, 8)
    expected = torch.zeros(8, 8, dtype=torch.bool)
    expected[2:6, 2:6] = True
    assert torch.equal(binarize_mask_logits(pasted[0]), expected)
    # a 4 x 4 box at 4 x 4 logits: every pixel centre hits a logit centre
    torch.testing.assert_close(pasted[0, 2:6, 2:6], torch.full((4, 4), 5.0))
    # outside the box: -1 (not grid_sample's zero padding, which would be
    # foreground at the >= 0 threshold)
    outside = pasted[0][~expected]
    assert outside.numel() == 48 and torch.all(outside == -1.0)


def test_paste_keeps_the_logit_layout_and_accepts_3d_input():
    # left half of the RoI positive, right half negative; box [0, 0, 8, 4]
    logits = torch.tensor([[3.0, 3.0, -3.0, -3.0]] * 4)[None]    # [1, 4, 4]
    pasted = paste_mask_logits(logits, torch.tensor([[0.0, 0.0, 8.0, 4.0]]),
                               6, 10)
    assert pasted.shape == (1, 6, 10)
    fg = binarize_mask_logits(pasted[0])
    expected = torch.zeros(6, 10, dtype=torch.bool)
    expected[0:4, 0:4] = True                  # x centres 0.5 .. 3.5 < 4
    assert torch.equal(fg, expected)
    assert torch.all(pasted[0, 4:] == -1.0) and torch.all(pasted[0, :, 8:]
                                                          == -1.0)


def test_paste_several_boxes_and_none():
    logits = torch.stack([torch.full((1, 2, 2), 1.0),
                          torch.full((1, 2, 2), -1.0)])
    boxes = torch.tensor([[0.0, 0.0, 2.0, 2.0], [1.0, 1.0, 5.0, 3.0]])
    pasted = paste_mask_logits(logits, boxes, 5, 6)
    fg = binarize_mask_logits(pasted)
    assert fg[0].sum() == 4 and fg[0, :2, :2].all()
    assert not fg[1].any()                     # all-negative logits
    empty = paste_mask_logits(torch.zeros(0, 1, 4, 4), torch.zeros(0, 4),
                              5, 6)
    assert empty.shape == (0, 5, 6)


def test_encode_masks_round_trips_through_pycocotools():
    rng = np.random.default_rng(0)
    masks = torch.from_numpy(rng.random((3, 5, 7)) > 0.5)
    masks[2] = False                            # an empty mask encodes too
    rles = encode_masks(masks)
    assert len(rles) == 3
    for rle, m in zip(rles, masks.numpy()):
        assert set(rle) == {'size', 'counts'}
        assert rle['size'] == [5, 7] and isinstance(rle['counts'], str)
        decoded = mask_utils.decode(dict(size=rle['size'],
                                         counts=rle['counts'].encode()))
        assert decoded.dtype == np.uint8
        assert np.array_equal(decoded, m.astype(np.uint8))
        assert mask_utils.area(dict(size=rle['size'], counts=rle[
            'counts'].encode())) == int(m.sum())
    assert encode_masks(torch.zeros(0, 5, 7, dtype=torch.bool)) == []


def test_alignment_score_is_the_sigmoid():
    out = alignment_score(torch.tensor([0.0, 1.0, -1.0]))
    torch.testing.assert_close(out, torch.tensor(
        [0.5, 1 / (1 + math.exp(-1)), 1 / (1 + math.exp(1))]))
