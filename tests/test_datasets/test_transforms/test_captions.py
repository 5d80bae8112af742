"""Caption / region transforms of RegionCLIP pretraining."""
import numpy as np
import pytest

from ovd_ext.datasets.transforms import (LoadCaptionProposals, RandomCaption,
                                         RandomRegions)


def test_random_regions_inside_the_image_and_large_enough():
    np.random.seed(0)
    out = RandomRegions(num_boxes=500, min_size=8)(
        {'img': np.zeros((60, 90, 3), np.uint8)})
    boxes = out['proposals']
    assert boxes.shape == (500, 4) and boxes.dtype == np.float32
    assert (boxes[:, 0] >= 0).all() and (boxes[:, 2] <= 90).all()
    assert (boxes[:, 1] >= 0).all() and (boxes[:, 3] <= 60).all()
    assert (boxes[:, 2] - boxes[:, 0] >= 8 - 1e-4).all()
    assert (boxes[:, 3] - boxes[:, 1] >= 8 - 1e-4).all()
    np.testing.assert_array_equal(out['proposals_scores'], np.ones(500))
    # all positions and sizes occur: centres spread over the image
    cx = (boxes[:, 0] + boxes[:, 2]) / 2
    assert cx.min() < 20 and cx.max() > 70
    assert (boxes[:, 2] - boxes[:, 0]).max() > 60


def test_random_regions_on_an_image_smaller_than_min_size():
    out = RandomRegions(num_boxes=3, min_size=50)(
        {'img': np.zeros((20, 30, 3), np.uint8)})
    np.testing.assert_allclose(out['proposals'],
                               np.tile([[0, 0, 30, 20]], (3, 1)), atol=1e-4)


def test_random_regions_rejects_bad_arguments():
    with pytest.raises(ValueError):
        RandomRegions(num_boxes=0)


def test_load_caption_proposals_best_or_sampled():
    boxes = np.arange(40, dtype=np.float32).reshape(10, 4)
    scores = np.linspace(0.1, 1.0, 10, dtype=np.float32)
    out = LoadCaptionProposals(num_max_proposals=3)(
        {'proposals': boxes, 'proposals_scores': scores})
    np.testing.assert_array_equal(out['proposals'], boxes[[9, 8, 7]])
    np.random.seed(0)
    out = LoadCaptionProposals(num_max_proposals=3, sample_from=5)(
        {'proposals': boxes, 'proposals_scores': scores})
    assert set(out['proposals_scores'].round(2)) <= set(scores[5:].round(2))
    assert len(out['proposals']) == 3
    with pytest.raises(ValueError):
        LoadCaptionProposals(num_max_proposals=5, sample_from=3)


def test_random_caption_and_missing_captions():
    np.random.seed(0)
    picked = {RandomCaption()({'captions': ['a', 'b']})['caption']
              for _ in range(20)}
    assert picked == {'a', 'b'}
    with pytest.raises(KeyError, match='x.png'):
        RandomCaption()({'captions': [], 'img_path': 'x.png'})
