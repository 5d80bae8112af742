import pytest
import torch
from mmcv.ops import roi_align

from ovd_ext.vlm import (attention_pool, default_roi_size, dense_features,
                         dense_stride, encode_image, encode_regions,
                         pool_regions)
from ovd_ext.vlm.dense import _vit_tokens


def _imgs(n, h, w, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(n, 3, h, w, generator=gen)


@pytest.mark.parametrize('fixture,hw,shape', [
    ('tiny_rn', (64, 64), (384, 2, 2)),
    ('tiny_rn', (128, 96), (384, 4, 3)),
    ('tiny_vit', (64, 64), (128, 8, 8)),
    ('tiny_vit', (96, 128), (128, 12, 16)),   # resized pos. embedding
])
def test_dense_feature_shapes(fixture, hw, shape, request):
    clip = request.getfixturevalue(fixture)
    feats = dense_features(clip, _imgs(2, *hw))
    assert feats.shape == (2, *shape)
    assert feats.shape[-1] * clip.feature_stride == hw[1]


def test_vit_token_path_matches_model(tiny_vit):
    x = _imgs(2, 64, 64)
    v = tiny_vit.visual
    with torch.no_grad():
        cls = v.ln_post(_vit_tokens(v, x)[:, 0]) @ v.proj
        ref = tiny_vit.model.encode_image(x)
    assert torch.allclose(cls, ref, atol=1e-5)


def test_rn_attention_pool_matches_model(tiny_rn):
    feats = dense_features(tiny_rn, _imgs(2, 64, 64))
    with torch.no_grad():
        ref = tiny_rn.visual.attnpool(feats)
        assert torch.allclose(attention_pool(tiny_rn.visual.attnpool, feats),
                              ref, atol=1e-5)


def test_rn_whole_image_region_equals_image_embedding(tiny_rn):
    # Whole-image box, RoI grid = attention-pool grid (2x2), aligned=True,
    # adaptive sampling: each bin samples exactly one feature-cell centre, so
    # RoIAlign returns the feature map itself (bit-exact) and the region
    # embedding equals the image embedding up to float32 rounding of the
    # re-implemented attention pool (measured max |diff| ~2e-7).
    x = _imgs(3, 64, 64)
    box = [torch.tensor([[0., 0., 64., 64.]])] * 3
    reg = encode_regions(tiny_rn, x, box)
    img = encode_image(tiny_rn, x)
    assert (reg - img).abs().max() < 1e-6
    feats = dense_features(tiny_rn, x)
    rois = torch.tensor([[0., 0., 0., 64., 64.]])
    exact = roi_align(feats[:1], rois, (2, 2), 1 / 32, 0, 'avg', True)
    assert torch.equal(exact, feats[:1])
    # 2 samples per bin mix neighbouring cells instead
    mixed = roi_align(feats[:1], rois, (2, 2), 1 / 32, 2, 'avg', True)
    assert not torch.allclose(mixed, feats[:1], atol=1e-6)


@pytest.mark.parametrize('fixture', ['tiny_rn', 'tiny_vit'])
def test_regions_are_per_image_and_normalised(fixture, request):
    clip = request.getfixturevalue(fixture)
    x = _imgs(2, 128, 128, seed=3)
    boxes = [torch.tensor([[0., 0., 64., 64.], [10., 20., 100., 90.]]),
             torch.tensor([[32., 32., 128., 128.]])]
    both = encode_regions(clip, x, boxes)
    assert both.shape == (3, 128)
    assert torch.allclose(both.norm(dim=1), torch.ones(3), atol=1e-5)
    first = encode_regions(clip, x[:1], boxes[:1])
    second = encode_regions(clip, x[1:], boxes[1:])
    assert torch.allclose(both, torch.cat([first, second]), atol=1e-5)
    other = encode_regions(clip, x, boxes, roi_size=3)  # resized pos. emb.
    assert other.shape == (3, 128) and (other - both).abs().max() > 1e-4
    feats = dense_features(clip, x)
    empty = pool_regions(clip, feats, [torch.zeros(0, 4)] * 2)
    assert empty.shape == (0, 128)


def test_pool_regions_accepts_non_contiguous_features(tiny_vit):
    x = _imgs(2, 64, 64, seed=5)
    feats = dense_features(tiny_vit, x)
    strided = feats.transpose(2, 3).contiguous().transpose(2, 3)
    assert not strided.is_contiguous()
    boxes = [torch.tensor([[8., 8., 40., 56.]]),
             torch.tensor([[0., 16., 64., 48.]])]
    assert torch.equal(pool_regions(tiny_vit, feats, boxes),
                       pool_regions(tiny_vit, strided, boxes))


def test_dense_layers_strides_and_roi_grids(tiny_rn, tiny_vit):
    x = _imgs(1, 64, 96)
    assert dense_features(tiny_rn, x, layer='layer3').shape == (1, 192, 4, 6)
    assert dense_stride(tiny_rn) == 32
    assert dense_stride(tiny_rn, 'layer3') == 16
    assert default_roi_size(tiny_rn) == (2, 2)
    assert default_roi_size(tiny_rn, 'layer3') == (4, 4)   # layer4 halves it
    assert dense_stride(tiny_vit) == 8 and default_roi_size(tiny_vit) == (8, 8)
    assert torch.equal(dense_features(tiny_vit, x, layer='last'),
                       dense_features(tiny_vit, x))
    with pytest.raises(ValueError, match=r"no dense layer 'layer3'.*'last'"):
        dense_features(tiny_vit, x, layer='layer3')
    with pytest.raises(ValueError, match="no dense layer 'layer2'"):
        encode_regions(tiny_rn, x, [torch.zeros(0, 4)], layer='layer2')


def test_rn_default_layer_is_layer4_bit_identical(tiny_rn):
    x = _imgs(2, 96, 128, seed=6)
    boxes = [torch.tensor([[3., 5., 70., 90.]]),
             torch.tensor([[0., 0., 128., 96.], [40., 10., 60., 30.]])]
    feats = dense_features(tiny_rn, x)
    assert torch.equal(feats, dense_features(tiny_rn, x, layer='layer4'))
    v = tiny_rn.visual
    with torch.no_grad():   # the layer3 map is the trunk cut before layer4
        c4 = dense_features(tiny_rn, x, layer='layer3')
        assert torch.equal(v.layer4(c4), feats)
    assert torch.equal(encode_regions(tiny_rn, x, boxes),
                       encode_regions(tiny_rn, x, boxes, layer='layer4'))


def test_rn_layer3_whole_image_region_equals_image_embedding(tiny_rn):
    # RegionCLIP's C4 head: RoIAlign on the stride-16 map (4x4 grid over a
    # whole 64 px image samples every cell at its centre), then layer4 and
    # the attention pool: the global image embedding again (measured max
    # |diff| ~2e-7, the re-implemented attention pool's rounding).
    x = _imgs(3, 64, 64)
    box = [torch.tensor([[0., 0., 64., 64.]])] * 3
    reg = encode_regions(tiny_rn, x, box, layer='layer3')
    img = encode_image(tiny_rn, x)
    assert (reg - img).abs().max() < 1e-6


def test_rn_layer3_region_is_c4_head_on_the_roi(tiny_rn):
    # box on cell borders of the 8x8 C4 map of a 128 px image, RoI grid 2x2
    # = one sample per cell centre: RoIAlign returns those 4 cells exactly
    x = _imgs(1, 128, 128, seed=8)
    c4 = dense_features(tiny_rn, x, layer='layer3')
    assert c4.shape[-2:] == (8, 8)
    reg = encode_regions(tiny_rn, x, [torch.tensor([[32., 48., 64., 80.]])],
                         layer='layer3', roi_size=2)
    v = tiny_rn.visual
    with torch.no_grad():
        ref = attention_pool(v.attnpool, v.layer4(c4[:, :, 3:5, 2:4]))
    assert torch.allclose(reg, torch.nn.functional.normalize(ref, dim=-1),
                          atol=1e-6)
    # and it is another embedding than the layer4 one of the same box
    l4 = encode_regions(tiny_rn, x, [torch.tensor([[32., 48., 64., 80.]])])
    assert (reg - l4).abs().max() > 1e-3
