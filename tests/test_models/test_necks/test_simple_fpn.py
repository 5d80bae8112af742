"""SimpleFPN (ViTDet Sec. 3; DITO Sec. 3.2) and LayerNorm2d."""
import pytest
import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule, build_norm_layer
from mmdet.registry import MODELS
from mmengine.registry import DefaultScope

import ovd_ext  # noqa: F401
from ovd_ext.models.necks import LayerNorm2d, SimpleFPN

PATCH16 = (4.0, 2.0, 1.0, 0.5)
PATCH8 = (2.0, 1.0, 0.5, 0.25)


@pytest.mark.parametrize('patch,scales', [(16, PATCH16), (8, PATCH8)])
def test_shapes_give_strides_4_to_64(patch, scales):
    torch.manual_seed(0)
    img_h, img_w = 128, 192
    fpn = SimpleFPN(16, out_channels=8, scale_factors=scales, num_outs=5)
    vit_map = torch.randn(2, 16, img_h // patch, img_w // patch)
    outs = fpn((vit_map, ))
    assert len(outs) == 5
    for out, stride in zip(outs, (4, 8, 16, 32, 64)):
        assert out.shape == (2, 8, img_h // stride, img_w // stride)
    # P6 is max_pool2d(kernel 1, stride 2) of P5: every other pixel
    torch.testing.assert_close(outs[4], outs[3][:, :, ::2, ::2])
    # the last element of a list is the map; a bare tensor works too
    for other in (fpn([torch.randn(2, 3, 5, 5), vit_map]), fpn(vit_map)):
        for a, b in zip(outs, other):
            torch.testing.assert_close(a, b)


def test_branch_layout_and_channels():
    fpn = SimpleFPN(32, out_channels=8, scale_factors=(4.0, 2.0, 1.0, 0.5,
                                                      0.25), num_outs=6)
    x4, x2, x1, d2, d4 = fpn.stages
    assert [(m.in_channels, m.out_channels) for m in (x4[0], x4[3])] == \
        [(32, 16), (16, 8)]
    assert isinstance(x4[1], LayerNorm2d) and x4[1].num_channels == 16
    assert isinstance(x4[2], torch.nn.GELU)
    assert (x2[0].in_channels, x2[0].out_channels) == (32, 16)
    assert len(x1) == 2                       # identity, then the two convs
    assert d2[0].kernel_size == 2 and d4[0].kernel_size == 4
    for stage, dim in zip(fpn.stages, (8, 16, 32, 32, 32)):
        c1, c3 = stage[-2], stage[-1]
        assert c1.conv.in_channels == dim and c1.conv.kernel_size == (1, 1)
        assert c3.conv.kernel_size == (3, 3) and c3.conv.padding == (1, 1)
        for cm in (c1, c3):
            assert cm.conv.bias is None and not cm.with_activation
            assert isinstance(cm.norm, LayerNorm2d) and cm.norm.eps == 1e-6


def test_identity_branch_numbers_and_quarter_pool():
    torch.manual_seed(0)
    fpn = SimpleFPN(6, out_channels=4, scale_factors=(1.0, 0.25), num_outs=2)
    for p in fpn.parameters():
        torch.nn.init.normal_(p)
    x = torch.randn(1, 6, 9, 11)
    out1, out4 = fpn((x, ))
    c1, c3 = fpn.stages[0]

    def ln(t, m):
        return F.layer_norm(t.permute(0, 2, 3, 1), (t.shape[1], ), m.weight,
                            m.bias, 1e-6).permute(0, 3, 1, 2)

    y = ln(F.conv2d(x, c1.conv.weight), c1.norm)
    y = ln(F.conv2d(y, c3.conv.weight, padding=1), c3.norm)
    torch.testing.assert_close(out1, y, atol=1e-5, rtol=1e-5)
    # 0.25 = two MaxPool2d(2), also on odd sizes (9x11 -> 2x2)
    pooled = fpn.stages[1][0](x)
    assert pooled.shape == (1, 6, 2, 2)
    torch.testing.assert_close(pooled, F.max_pool2d(F.max_pool2d(x, 2), 2))
    assert out4.shape == (1, 4, 2, 2)


def test_layer_norm_2d_matches_torch_over_channels():
    torch.manual_seed(0)
    ln = LayerNorm2d(5)
    assert ln.eps == 1e-6 and ln.weight.shape == ln.bias.shape == (5, )
    torch.nn.init.normal_(ln.weight)
    torch.nn.init.normal_(ln.bias)
    x = torch.randn(2, 5, 3, 4) * 3 + 1
    ref = F.layer_norm(x.permute(0, 2, 3, 1), (5, ), ln.weight, ln.bias,
                       1e-6).permute(0, 3, 1, 2)
    torch.testing.assert_close(ln(x), ref, atol=1e-6, rtol=0)
    # unit weight / zero bias: each pixel has mean 0, variance 1 over C
    y = LayerNorm2d(5)(x)
    torch.testing.assert_close(y.mean(1), torch.zeros(2, 3, 4), atol=1e-6,
                               rtol=0)
    torch.testing.assert_close(y.var(1, unbiased=False), torch.ones(2, 3, 4),
                               atol=1e-4, rtol=0)


def test_ln2d_builds_through_mmcv():
    with DefaultScope.overwrite_default_scope('mmdet'):
        name, norm = build_norm_layer(dict(type='LN2d'), 7)
        conv = ConvModule(3, 7, 3, padding=1, norm_cfg=dict(type='LN2d'))
    assert name == 'ln' and isinstance(norm, LayerNorm2d)
    assert norm.eps == 1e-5   # build_norm_layer's default when eps is unset
    assert conv.norm_name == 'ln' and isinstance(conv.norm, LayerNorm2d)
    assert conv.conv.bias is None   # bias='auto' drops it under a norm
    y = conv.conv(torch.randn(2, 3, 5, 5))
    torch.testing.assert_close(conv.norm(y), F.layer_norm(
        y.permute(0, 2, 3, 1), (7, ), eps=1e-5).permute(0, 3, 1, 2),
        atol=1e-6, rtol=0)


def test_build_from_config():
    fpn = MODELS.build(dict(type='SimpleFPN', in_channels=24, out_channels=8,
                            scale_factors=PATCH8, num_outs=5,
                            norm_cfg=dict(type='LN2d')))
    assert isinstance(fpn, SimpleFPN)
    assert fpn.stages[0][-1].norm.eps == 1e-6
    fpn.init_weights()
    outs = fpn((torch.randn(1, 24, 8, 8), ))
    assert [o.shape[-1] for o in outs] == [16, 8, 4, 2, 1]
    # an explicit eps is kept
    fpn = MODELS.build(dict(type='SimpleFPN', in_channels=24,
                            norm_cfg=dict(type='LN2d', eps=1e-3)))
    assert fpn.stages[0][-1].norm.eps == 1e-3
    assert sum(p.numel() for p in fpn.parameters()) == (
        24 * 12 * 4 + 12 + 12 * 2 + 12 * 6 * 4 + 6        # x4 deconvs + LN
        + 24 * 12 * 4 + 12                                # x2 deconv
        + (6 + 12 + 24 + 24) * 256 + 4 * 256 * 256 * 9    # 1x1, 3x3 convs
        + 8 * 2 * 256)                                    # their LNs


def test_backward_reaches_every_parameter():
    torch.manual_seed(0)
    fpn = SimpleFPN(16, out_channels=8)
    x = torch.randn(2, 16, 4, 6, requires_grad=True)
    outs = fpn((x, ))
    loss = sum((o * torch.randn_like(o)).sum() for o in outs)
    loss.backward()
    for name, p in fpn.named_parameters():
        assert p.grad is not None, name
        assert torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0, name
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ValueError, match=r'unsupported scale factor 3\.0'):
        SimpleFPN(16, scale_factors=(4.0, 3.0, 1.0))
    with pytest.raises(ValueError, match=r'num_outs=3 .* 4 scale factors'):
        SimpleFPN(16, num_outs=3)
    with pytest.raises(ValueError, match='strictly decreasing'):
        SimpleFPN(16, scale_factors=(0.5, 1.0, 2.0, 4.0))
    with pytest.raises(ValueError, match='empty'):
        SimpleFPN(16, scale_factors=())
    fpn = SimpleFPN(16, out_channels=8)
    with pytest.raises(ValueError, match=r'\[N, 16, h, w\].*\(1, 8, 4, 4\)'):
        fpn((torch.randn(1, 8, 4, 4), ))
