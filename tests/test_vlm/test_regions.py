"""Region embeddings of VL-PLM Eq. 5 (ovd_ext.vlm.regions): 1x + 1.5x crop
geometry at image borders and the shared-feature (Fast VL-PLM) paths."""
import numpy as np
import torch
import torch.nn.functional as F

from ovd_ext.vlm import (dense_features, encode_image, pool_regions,
                         preprocess_images)
from ovd_ext.vlm.regions import (pyramid_levels, region_embeddings,
                                 scaled_region_boxes,
                                 shared_feature_embeddings,
                                 shared_input_size, to_input_boxes)
from ovd_ext.vlm.image import resize_normalize, to_chw_float


def _image(h=80, w=100, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 255, size=(h, w, 3), dtype=np.uint8)


def test_scaled_boxes_are_clipped_at_the_borders():
    boxes = torch.tensor([[70., 10., 100., 30.],     # right border
                          [0., 0., 10., 10.],         # top-left corner
                          [40., 30., 60., 50.]])      # inside
    one, big = scaled_region_boxes(boxes, (1.0, 1.5), (80, 100))
    assert torch.equal(one, boxes)
    # w 30 -> 45 around cx 85: [62.5, 107.5] -> x2 clipped to W=100;
    # h 20 -> 30 around cy 20: [5, 35]
    expected = torch.tensor([[62.5, 5.0, 100.0, 35.0],
                             [0.0, 0.0, 12.5, 12.5],
                             [35.0, 25.0, 65.0, 55.0]])
    assert torch.allclose(big, expected)


def test_crop_mode_encodes_the_clipped_1x_and_1_5x_crops(tiny_vit):
    img = _image()
    box = torch.tensor([[70., 10., 100., 30.]])
    got = region_embeddings(tiny_vit, img, box, 'crops', bgr=True)
    # by hand: 1x crop rows 10:30, cols 70:100; 1.5x crop (see above) at
    # integer pixels covering [62.5, 5, 100, 35] -> rows 5:35, cols 62:100
    chw = to_chw_float(img, bgr=True)
    crops = torch.stack([resize_normalize(tiny_vit, chw[:, 10:30, 70:100]),
                         resize_normalize(tiny_vit, chw[:, 5:35, 62:100])])
    e = encode_image(tiny_vit, crops)
    want = F.normalize(e.sum(0, keepdim=True), dim=-1)    # phi(E(R)+E(R1.5))
    assert torch.allclose(got, want, atol=1e-5)
    # the 1.5x crop matters: 1x alone differs
    only_1x = region_embeddings(tiny_vit, img, box, 'crops', scales=(1.0,))
    assert not torch.allclose(only_1x, got, atol=1e-3)


def test_shared_input_size_and_box_mapping():
    assert shared_input_size((80, 100), 32) == (96, 96)
    # short side 224: factor 2.8 -> 224 x 280 -> 280/32 = 8.75 -> 9 cells
    assert shared_input_size((80, 100), 32, 224) == (224, 288)
    assert shared_input_size((10, 10), 32) == (32, 32)       # >= 1 cell
    b = to_input_boxes(torch.tensor([[10., 20., 50., 40.]]), (80, 100),
                       (224, 288))
    assert torch.allclose(b, torch.tensor([[28.8, 56., 144., 112.]]))


def test_fast_mode_pools_1x_and_1_5x_boxes_from_one_pass(tiny_rn,
                                                         monkeypatch):
    import ovd_ext.vlm.regions as regions
    clip = tiny_rn
    img = _image()
    boxes = torch.tensor([[70., 10., 100., 30.], [20., 20., 60., 70.]])
    seen = []

    def spy(clip_, feats_, boxes_, **kw):
        seen.append((tuple(feats_.shape), boxes_[0].clone()))
        return pool_regions(clip_, feats_, boxes_, **kw)
    monkeypatch.setattr(regions, 'pool_regions', spy)
    got = region_embeddings(clip, img, boxes, 'fast', bgr=True)
    size = shared_input_size((80, 100), clip.feature_stride)
    feats = dense_features(clip, preprocess_images(clip, img, size=size,
                                                   bgr=True))
    sx, sy = size[1] / 100, size[0] / 80
    one = boxes * torch.tensor([sx, sy, sx, sy])
    big = torch.tensor([[62.5, 5., 100., 35.], [10., 7.5, 70., 80.]]) * \
        torch.tensor([sx, sy, sx, sy])
    want = F.normalize(pool_regions(clip, feats, [one]) +
                       pool_regions(clip, feats, [big]), dim=-1)
    assert torch.allclose(got, want, atol=1e-5)
    # one shared pass (same feature map), boxes in input pixels: 96 / 100
    assert [s[0] for s in seen] == [tuple(feats.shape)] * 2
    assert torch.allclose(seen[0][1], one) and torch.allclose(seen[1][1], big)
    assert torch.allclose(big[1], torch.tensor([9.6, 9.0, 67.2, 96.0]))
    per_scale = shared_feature_embeddings(clip, img, boxes)
    assert per_scale.shape == (2, 2, clip.embed_dim)


def test_multiscale_levels_by_area():
    # 224x224 image; finest level 1120 -> 35 cells: 1 px = 35/224 cells
    boxes = torch.tensor([[0., 0., 64., 64.],     # 10x10 = 100 cells > 64
                          [0., 0., 40., 40.],     # 6.25^2 = 39 cells
                          [0., 0., 16., 16.]])    # 2.5^2 = 6.25 cells
    lv = pyramid_levels(boxes, (224, 224), 32, (224, 672, 1120), (64, 16))
    assert lv.tolist() == [0, 1, 2]
    # levels are indices into short_sides, whatever their order
    lv = pyramid_levels(boxes, (224, 224), 32, (1120, 672, 224), (64, 16))
    assert lv.tolist() == [2, 1, 0]


def test_multiscale_mode_runs_each_level(tiny_rn):
    img = _image(64, 64)
    boxes = torch.tensor([[0., 0., 64., 64.], [10., 10., 14., 14.]])
    emb = region_embeddings(tiny_rn, img, boxes, 'fast-ms',
                            ms_short_sides=(32, 96), ms_area_thresholds=(4.,))
    assert emb.shape == (2, tiny_rn.embed_dim)
    assert torch.allclose(emb.norm(dim=-1), torch.ones(2), atol=1e-5)
    assert region_embeddings(tiny_rn, img, torch.zeros(0, 4),
                             'fast-ms').shape == (0, tiny_rn.embed_dim)
