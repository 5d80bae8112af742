import numpy as np
import pytest
import torch

from ovd_ext.vlm import (crop_bounds, encode_crops, encode_image,
                         preprocess_images, scale_boxes)


def test_scale_boxes_hand_computed():
    boxes = torch.tensor([[10., 20., 30., 60.]])
    # w 20 -> 30, h 40 -> 60 around centre (20, 40); inside a 100x100 image
    assert torch.equal(scale_boxes(boxes, 1.5, (100, 100)),
                       torch.tensor([[5., 10., 35., 70.]]))
    assert torch.equal(scale_boxes(boxes, 1.0, (100, 100)), boxes)
    assert torch.equal(scale_boxes(boxes, 0.5, (100, 100)),
                       torch.tensor([[15., 30., 25., 50.]]))


def test_scale_boxes_clips_at_borders():
    h, w = 50, 80
    boxes = torch.tensor([[0., 0., 20., 10.],      # top-left corner
                          [70., 40., 80., 50.],    # bottom-right corner
                          [30., 0., 50., 50.]])    # full height
    out = scale_boxes(boxes, 2.0, (h, w))
    # [-10,-5,30,15] / [65,35,85,55] / [20,-25,60,75] before clipping
    expected = torch.tensor([[0., 0., 30., 15.],
                             [65., 35., 80., 50.],
                             [20., 0., 60., 50.]])
    assert torch.equal(out, expected)
    assert torch.equal(scale_boxes(boxes[1:2], 1.5, (h, w)),
                       torch.tensor([[67.5, 37.5, 80., 50.]]))
    with pytest.raises(ValueError):
        scale_boxes(boxes, 0.0, (h, w))


def test_crop_bounds_cover_and_are_non_empty():
    b = torch.tensor([[67.5, 37.5, 80., 50.], [5., 5., 5., 5.],
                      [80., 50., 80., 50.], [-3., 2.2, 10.1, 7.]])
    assert crop_bounds(b, (50, 80)).tolist() == [
        [67, 37, 80, 50], [5, 5, 6, 6], [79, 49, 80, 50], [0, 2, 11, 7]]


def _images():
    rng = np.random.default_rng(0)
    ims = [rng.integers(0, 256, (48, 80, 3), dtype=np.uint8),
           rng.integers(0, 256, (70, 60, 3), dtype=np.uint8)]
    boxes = [torch.tensor([[4., 6., 40., 30.], [60., 20., 79., 47.],
                           [0., 0., 80., 48.]]),
             torch.tensor([[10., 10., 30., 50.], [33.3, 5.5, 58.2, 64.9]])]
    return ims, boxes


@pytest.mark.parametrize('fixture', ['tiny_rn', 'tiny_vit'])
def test_encode_crops_batched_equals_one_per_call(fixture, request):
    clip = request.getfixturevalue(fixture)
    ims, boxes = _images()
    batched = encode_crops(clip, ims, boxes, scales=(1.0, 1.5), batch_size=64)
    single = encode_crops(clip, ims, boxes, scales=(1.0, 1.5), batch_size=1)
    assert batched.shape == (5, 2, 128)
    assert torch.allclose(batched.norm(dim=-1), torch.ones(5, 2), atol=1e-5)
    assert (batched - single).abs().max() < 1e-5
    odd = encode_crops(clip, ims, boxes, scales=(1.0, 1.5), batch_size=3)
    assert (batched - odd).abs().max() < 1e-5


def test_encode_crops_matches_manual_crop(tiny_vit):
    ims, boxes = _images()
    out = encode_crops(tiny_vit, ims[1:], boxes[1:], scales=(1.0, 1.5))
    # box 1 at 1.5x: centre (45.75, 35.2), size 37.35 x 89.1 -> clipped
    # [27.075, 0, 60, 70] -> pixels x 27..60, y 0..70
    crop = ims[1][0:70, 27:60]
    manual = encode_image(tiny_vit, preprocess_images(tiny_vit, crop))
    assert torch.allclose(out[1, 1], manual[0], atol=1e-5)
    # torch CHW input and BGR flag give the same embeddings
    chw = [torch.from_numpy(ims[1][..., ::-1].copy()).permute(2, 0, 1)]
    bgr = encode_crops(tiny_vit, chw, boxes[1:], bgr=True)
    assert torch.allclose(out, bgr, atol=1e-6)


def test_encode_crops_errors_and_empty(tiny_rn):
    ims, boxes = _images()
    with pytest.raises(ValueError, match='box lists'):
        encode_crops(tiny_rn, ims, boxes[:1])
    empty = encode_crops(tiny_rn, ims[:1], [torch.zeros(0, 4)])
    assert empty.shape == (0, 2, 128)


def test_preprocess_images_layouts_and_ranges(tiny_rn):
    rng = np.random.default_rng(1)
    hwc = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    x = preprocess_images(tiny_rn, hwc)
    mean = torch.tensor([0.48145466, 0.4578275, 0.40821073])
    std = torch.tensor([0.26862954, 0.26130258, 0.27577711])
    ref = (torch.from_numpy(hwc).permute(2, 0, 1).float() / 255
           - mean[:, None, None]) / std[:, None, None]
    assert x.shape == (1, 3, 64, 64) and torch.allclose(x[0], ref, atol=1e-6)
    chw01 = torch.from_numpy(hwc).permute(2, 0, 1).float() / 255
    assert torch.allclose(preprocess_images(tiny_rn, chw01, max_value=1.0),
                          x, atol=1e-6)
    batch = preprocess_images(tiny_rn, [hwc, hwc[:40, :50]], size=(32, 48))
    assert batch.shape == (2, 3, 32, 48)
    with pytest.raises(ValueError, match='HWC'):
        preprocess_images(tiny_rn, hwc.transpose(2, 0, 1))
    with pytest.raises(ValueError, match='preprocess_images'):
        encode_image(tiny_rn, batch)


@pytest.mark.parametrize('fixture', ['tiny_rn', 'tiny_vit'])
def test_bf16_crops_follow_fp32(fixture, request):
    """build_clip(precision='bf16') keeps the weights (rounded), puts ResNet
    towers in NHWC, and its crop embeddings stay close to fp32's."""
    from ovd_ext.vlm import build_clip
    clip = request.getfixturevalue(fixture)
    low = build_clip(clip.name, None, precision='bf16')
    low.model.load_state_dict(clip.model.state_dict())
    assert low.dtype == torch.bfloat16 and not clip.channels_last
    assert low.channels_last == (clip.kind == 'resnet')
    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, (96, 120, 3), dtype=np.uint8)
    boxes = torch.tensor([[0, 0, 50, 40], [30, 20, 119, 95], [60, 5, 90, 30]],
                         dtype=torch.float32)
    ref = encode_crops(clip, [img], [boxes])
    got = encode_crops(low, [img], [boxes], batch_size=4)
    assert got.dtype == torch.float32 and got.shape == ref.shape
    cos = (ref * got).sum(-1)
    assert torch.all(cos > 0.99), cos
