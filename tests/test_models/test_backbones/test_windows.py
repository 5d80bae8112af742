"""Window geometry of the ViTDet / DITO backbones: partition round trips,
padding, and the region labels / masks of the shifted pass (DITO Sec. 3.3,
Algorithm 1; Swin's cyclic-shift mask)."""
import pytest
import torch

from ovd_ext.models.backbones.windows import (PAD_LABEL, global_mask,
                                              pad_to_windows, region_labels,
                                              roll_map, window_masks,
                                              window_partition,
                                              window_unpartition)


def test_partition_unpartition_round_trip_and_window_order():
    x = torch.randn(2, 8, 12, 3)
    win = window_partition(x, 4)
    assert win.shape == (2 * 2 * 3, 16, 3)
    # row-major windows per image: window 1 of image 0 is rows 0..3, cols
    # 4..7; window 3 is the second row of windows, first column
    assert torch.equal(win[1], x[0, 0:4, 4:8].reshape(16, 3))
    assert torch.equal(win[3], x[0, 4:8, 0:4].reshape(16, 3))
    assert torch.equal(win[6], x[1, 0:4, 0:4].reshape(16, 3))
    assert torch.equal(window_unpartition(win, 4, (8, 12)), x)


def test_roll_round_trip_and_direction():
    x = torch.randn(1, 6, 6, 2)
    rolled = roll_map(x, 2)
    # Algorithm 1: np.roll by +s, the bottom-right tokens wrap to top-left
    assert torch.equal(rolled[0, 2, 2], x[0, 0, 0])
    assert torch.equal(rolled[0, 0, 0], x[0, 4, 4])
    assert torch.equal(roll_map(rolled, -2), x)


def test_pad_to_windows_shapes():
    x = torch.randn(2, 5, 7, 3)
    padded, hw = pad_to_windows(x, 4)
    assert padded.shape == (2, 8, 8, 3) and hw == (5, 7)
    assert torch.equal(padded[:, :5, :7], x)
    assert padded[:, 5:].abs().sum() == 0 and padded[:, :, 7:].abs().sum() == 0
    same, hw = pad_to_windows(torch.randn(1, 8, 4, 3), 4)
    assert same.shape == (1, 8, 4, 3) and hw == (8, 4)


def test_region_labels_without_shift():
    labels = region_labels((8, 8), (6, 7), shift=0)
    assert labels.dtype == torch.long and labels.shape == (8, 8)
    expected = torch.zeros(8, 8, dtype=torch.long)
    expected[6:] = PAD_LABEL
    expected[:, 7:] = PAD_LABEL
    assert torch.equal(labels, expected)


# 8 x 8 grid, windows of 4, shift 2: after np.roll by +2 rows 0-1 / cols
# 0-1 hold the tokens that wrapped from the bottom / right edge. Swin's 4
# groups: 3 = wrapped row and column, 2 = wrapped row, 1 = wrapped column.
SHIFTED_8x8 = torch.tensor([
    [3, 3, 2, 2, 2, 2, 2, 2],
    [3, 3, 2, 2, 2, 2, 2, 2],
    [1, 1, 0, 0, 0, 0, 0, 0],
    [1, 1, 0, 0, 0, 0, 0, 0],
    [1, 1, 0, 0, 0, 0, 0, 0],
    [1, 1, 0, 0, 0, 0, 0, 0],
    [1, 1, 0, 0, 0, 0, 0, 0],
    [1, 1, 0, 0, 0, 0, 0, 0]])


def test_region_labels_shifted_are_swins_four_groups():
    labels = region_labels((8, 8), (8, 8), shift=2, mask_border=True)
    assert torch.equal(labels, SHIFTED_8x8)
    groups = [set(w.tolist()) for w in window_partition(
        labels[None, :, :, None], 4)[..., 0]]
    assert groups == [{0, 1, 2, 3}, {0, 2}, {0, 1}, {0}]


def test_region_labels_follow_the_rolled_tokens():
    # the label of each token travels with it through the roll: the rolled
    # label map equals the roll of the un-rolled "wrapped" map
    labels = region_labels((12, 8), (12, 8), shift=2)
    rows = torch.arange(12)[:, None].expand(12, 8)
    cols = torch.arange(8)[None, :].expand(12, 8)
    orig = 2 * (rows >= 10).long() + (cols >= 6).long()
    assert torch.equal(labels, torch.roll(orig, (2, 2), (0, 1)))


def test_region_labels_shifted_with_padding():
    # valid 7 x 6 of a padded 8 x 8 map: the padded row 7 / cols 6..7 are
    # rolled with the tokens; the real token of row 6 wraps to row 0
    labels = region_labels((8, 8), (7, 6), shift=2)
    pad = torch.zeros(8, 8, dtype=torch.bool)
    pad[7:] = True
    pad[:, 6:] = True
    rolled_pad = torch.roll(pad, (2, 2), (0, 1))
    assert torch.equal(labels == PAD_LABEL, rolled_pad)
    assert labels[0, 2] == 2          # original (6, 0): wrapped row only
    assert labels[2, 2] == 0          # original (0, 0)
    # the wrapped columns are all padding here: no column group is left
    assert set(labels[~rolled_pad].tolist()) == {0, 2}


def test_region_labels_unmasked_shift_has_no_border_groups():
    labels = region_labels((8, 8), (8, 8), shift=2, mask_border=False)
    assert torch.equal(labels, torch.zeros(8, 8, dtype=torch.long))
    labels = region_labels((8, 8), (7, 8), shift=2, mask_border=False)
    expected = torch.zeros(8, 8, dtype=torch.long)
    expected[1] = PAD_LABEL           # padded row 7 rolled to row 1
    assert torch.equal(labels, expected)


@pytest.mark.parametrize('valid', [(8, 8), (7, 6)])
def test_window_masks_equal_same_label_per_window(valid):
    labels = region_labels((8, 8), valid, shift=2)
    masks = window_masks(labels, 4)
    assert masks.shape == (4, 16, 16) and masks.dtype == torch.bool
    for i, (r, c) in enumerate([(0, 0), (0, 4), (4, 0), (4, 4)]):
        lab = labels[r:r + 4, c:c + 4].flatten()
        assert torch.equal(masks[i], lab[:, None] == lab[None, :])
    # unpadded: window 0 holds the 4 groups of 2 x 2 tokens each, window 1
    # two groups of 8, window 3 one group
    if valid == (8, 8):
        assert masks[0].sum(1).tolist() == [4] * 16
        assert masks[1].sum(1).tolist() == [8] * 16
        assert masks[3].all()


def test_global_mask_only_separates_padding():
    labels = region_labels((8, 8), (7, 6), shift=2)
    mask = global_mask(labels)
    assert mask.shape == (64, 64)
    pad = labels.flatten() == PAD_LABEL
    assert torch.equal(mask, pad[:, None] == pad[None, :])
    # border groups 2 and 0 attend each other globally
    flat = labels.flatten()
    i = int((flat == 2).nonzero()[0])
    j = int((flat == 0).nonzero()[0])
    assert mask[i, j] and mask[j, i]
    assert int(mask[~pad][:, ~pad].sum()) == int((~pad).sum()) ** 2
    assert not mask[~pad][:, pad].any()
    # no padding: global attention everywhere
    assert global_mask(SHIFTED_8x8).all()
