"""WindowedCLIPViT: open_clip's ViT with window / shifted-window attention
(ViTDet; DITO Sec. 3.3, Algorithm 1). Checked against open_clip's own
forward, against a reference built from open_clip blocks with float masks,
and for the mask semantics (no attention across the rolled border, padding
never reaches real tokens)."""
import pytest
import torch
import torch.nn.functional as F

import ovd_ext  # noqa: F401
from ovd_ext.models.backbones.windowed_clip_vit import (WindowedCLIPViT,
                                                        block_forward,
                                                        even_global_layers)
from ovd_ext.models.backbones.windows import region_labels, window_masks
from ovd_ext.vlm.dense import resize_grid_embedding

TINY = dict(type='OpenCLIP', name='ovd-tiny-vit',
            checkpoint='checkpoints/ovd_shapes/ovd-tiny-vit.pt')


def tiny(**kwargs) -> WindowedCLIPViT:
    kwargs = dict(dict(window_size=8, num_global=1), **kwargs)
    return WindowedCLIPViT(clip=TINY, **kwargs).eval()


def images(*hw, batch=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(batch, 3, *hw, generator=g)


# -- (a) global attention everywhere is open_clip's ViT -------------------
@pytest.mark.parametrize('clip,size', [
    (TINY, 64),
    (dict(type='OpenCLIP', name='ViT-B-16', checkpoint=None), 224)])
def test_global_backbone_equals_open_clip_image_embedding(clip, size):
    torch.manual_seed(0)
    bb = WindowedCLIPViT(clip=clip, window_size=None,
                         with_cls_token=True).eval()
    assert bb.global_layers == list(range(len(
        bb.visual.transformer.resblocks)))
    x = images(size, size, batch=1)
    with torch.no_grad():
        ours = bb.image_embedding(x)
        ref = bb.visual(x)       # open_clip's own VisionTransformer.forward
    assert ours.shape == ref.shape == (1, bb.embed_dim)
    assert ref.abs().max() > 0.1
    torch.testing.assert_close(ours, ref, atol=1e-5, rtol=0)


def test_global_backbone_tokens_at_detection_size_match_dense_path():
    # off the pretraining resolution the position embeddings are resized
    # as the dense VLM path does (ovd_ext.vlm.dense._vit_tokens)
    from ovd_ext.vlm.dense import _vit_tokens
    bb = tiny(window_size=None, with_cls_token=True)
    x = images(96, 128)
    with torch.no_grad():
        tokens, cls = bb.forward_tokens(x)
        ref = _vit_tokens(bb.visual, x)
        (fmap, ) = bb(x)
    assert tokens.shape == (2, 12, 16, 128)
    torch.testing.assert_close(cls, ref[:, 0], atol=1e-5, rtol=0)
    torch.testing.assert_close(tokens.flatten(1, 2), ref[:, 1:], atol=1e-5,
                               rtol=0)
    assert torch.equal(fmap, tokens.permute(0, 3, 1, 2))
    with pytest.raises(ValueError, match='with_cls_token=True'):
        tiny().image_embedding(x)


# -- reference windowed / shifted forward from open_clip blocks ----------
def reference(bb, x, shift=0, official=False):
    """One pass of Algorithm 1 with open_clip's blocks (nn.MultiheadAttention
    with additive -inf masks), unrolled; whole windows, no class token."""
    v = bb.visual
    tok = v.conv1(x).permute(0, 2, 3, 1)
    b, h, w, c = tok.shape
    pos = resize_grid_embedding(v.positional_embedding, v.grid_size,
                                (h, w))[1:].view(h, w, c)
    if official:     # roll the patch tokens, then add the position grid
        tok = torch.roll(tok, (shift, shift), (1, 2)) + pos
    else:            # add the position grid, then roll
        tok = torch.roll(tok + pos, (shift, shift), (1, 2))
    tok = v.ln_pre(tok)
    m = bb.window_size
    labels = region_labels((h, w), (h, w), shift, mask_border=not official)
    lab = labels.view(h // m, m, w // m, m).permute(0, 2, 1, 3).reshape(
        -1, m * m)
    allowed = lab[:, :, None] == lab[:, None, :]
    heads = v.transformer.resblocks[0].attn.num_heads
    fmask = torch.zeros(allowed.shape).masked_fill(~allowed, float('-inf'))
    fmask = fmask.repeat(b, 1, 1).repeat_interleave(heads, 0)
    for i, blk in enumerate(v.transformer.resblocks):
        if i in bb.global_layers:
            tok = blk(tok.reshape(b, h * w, c)).view(b, h, w, c)
        else:
            win = tok.view(b, h // m, m, w // m, m, c).permute(
                0, 1, 3, 2, 4, 5).reshape(-1, m * m, c)
            win = blk(win, attn_mask=fmask)
            tok = win.view(b, h // m, w // m, m, m, c).permute(
                0, 1, 3, 2, 4, 5).reshape(b, h, w, c)
    return torch.roll(tok, (-shift, -shift), (1, 2))


def test_window_backbone_matches_reference():
    bb = tiny()
    assert bb.global_layers == [3] and bb.shift == 0
    x = images(128, 128)
    with torch.no_grad():
        (ours, ) = bb(x)
        ref = reference(bb, x)
        (glob, ) = tiny(window_size=None)(x)
    assert ours.shape == (2, 128, 16, 16)
    torch.testing.assert_close(ours.permute(0, 2, 3, 1), ref, atol=1e-5,
                               rtol=0)
    # windows change the result (3 of 4 blocks see 8 x 8 windows only)
    assert (ours - glob).abs().max() > 0.1


@pytest.mark.parametrize('mode', ['paper', 'official'])
def test_shifted_backbone_matches_reference(mode):
    bb = tiny(shifted=True, shift_mode=mode)
    assert bb.shift == 4
    x = images(128, 128)
    with torch.no_grad():
        (ours, ) = bb(x)
        official = mode == 'official'
        ref = (reference(bb, x, 0) + reference(bb, x, 4, official)) / 2
    torch.testing.assert_close(ours.permute(0, 2, 3, 1), ref, atol=1e-5,
                               rtol=0)


def test_paper_and_official_second_pass_differ():
    x = images(128, 128)
    with torch.no_grad():
        (plain, ) = tiny()(x)
        (paper, ) = tiny(shifted=True)(x)
        (official, ) = tiny(shifted=True, shift_mode='official')(x)
    assert paper.shape == official.shape == plain.shape
    assert (paper - official).abs().max() > 0.05
    assert (paper - plain).abs().max() > 0.05
    with pytest.raises(ValueError, match='shift_mode'):
        tiny(shift_mode='swin')


def test_all_global_blocks_make_the_paper_shift_a_no_op():
    # global attention is equivariant to the roll, and the paper rolls after
    # adding the position embeddings: the unrolled second pass equals the
    # first. The official mode rolls before them, so its second pass differs.
    x = images(128, 128)
    every = dict(global_layers=[0, 1, 2, 3])
    with torch.no_grad():
        (plain, ) = tiny(**every)(x)
        (paper, ) = tiny(shifted=True, **every)(x)
        (official, ) = tiny(shifted=True, shift_mode='official', **every)(x)
    torch.testing.assert_close(paper, plain, atol=1e-5, rtol=0)
    assert (official - plain).abs().max() > 0.05


# -- (b) a zero shift makes the second pass the first ---------------------
def test_zero_shift_second_pass_equals_first():
    x = images(128, 128)
    bb = tiny(shifted=True)
    bb.shift = 0
    with torch.no_grad():
        (two, ) = bb(x)
        (one, ) = tiny(shifted=False)(x)
    torch.testing.assert_close(two, one, atol=1e-6, rtol=0)


# -- (c) masks: no attention across the rolled border ---------------------
def test_block_forward_masked_attention(monkeypatch):
    torch.manual_seed(0)
    bb = tiny()
    block = bb.visual.transformer.resblocks[0]
    # the 8 x 8 grid, windows of 4, shift 2: window 0 holds Swin's 4 groups
    labels = region_labels((8, 8), (8, 8), shift=2)
    mask = window_masks(labels, 4)[:1]                    # 1 x 16 x 16
    lab = labels[:4, :4].flatten()
    assert lab.tolist() == [3, 3, 2, 2] * 2 + [1, 1, 0, 0] * 2
    x = torch.randn(1, 16, 128)
    with torch.no_grad():
        heads = block.attn.num_heads
        fmask = torch.zeros(16, 16).masked_fill(~mask[0], float('-inf'))
        ref = block(x, attn_mask=fmask[None].expand(heads, -1, -1))
        out = block_forward(block, x, mask[:, None])
        torch.testing.assert_close(out, ref, atol=1e-5, rtol=0)
        # perturbing the other groups leaves a token's output unchanged
        for group in range(4):
            y = x.clone()
            y[0, lab != group] += 3 * torch.randn_like(y[0, lab != group])
            moved = block_forward(block, y, mask[:, None])
            assert torch.equal(moved[0, lab == group], out[0, lab == group])
            assert (moved[0, lab != group]
                    - out[0, lab != group]).abs().max() > 0.1
        # without the mask the same perturbation leaks through
        y = x.clone()
        y[0, lab != 0] += 3 * torch.randn_like(y[0, lab != 0])
        assert (block_forward(block, y)[0, lab == 0]
                - block_forward(block, x)[0, lab == 0]).abs().max() > 1e-3

    # the attention probabilities block_forward asks for: exactly 0 across
    # the border, rows summing to 1
    seen = []
    sdpa = F.scaled_dot_product_attention

    def recording(q, k, v, attn_mask=None, **kwargs):
        logits = q @ k.transpose(-1, -2) / q.shape[-1] ** 0.5
        probs = logits.masked_fill(~attn_mask, float('-inf')).softmax(-1)
        seen.append(probs)
        return sdpa(q, k, v, attn_mask=attn_mask, **kwargs)

    monkeypatch.setattr(F, 'scaled_dot_product_attention', recording)
    with torch.no_grad():
        block_forward(block, x, mask[:, None])
    (probs, ) = seen
    assert probs.shape == (1, heads, 16, 16)
    across = lab[:, None] != lab[None, :]
    assert probs[..., across].abs().max() == 0
    assert probs[..., ~across].min() > 0
    torch.testing.assert_close(probs.sum(-1), torch.ones(1, heads, 16))


def test_shifted_backbone_border_tokens_ignore_the_other_side():
    # one window-only block; 16 x 16 patches, windows of 8, shift 4. The
    # pixels of patch rows 0..3 change. Bottom rows 12..15 wrap to the top
    # of the rolled map and share a window with rows 0..3 in the second
    # pass, but carry another border label; in the first pass they are a
    # window apart. So they must not change at all.
    bb = tiny(shifted=True, global_layers=[])
    bb.visual.transformer.resblocks = bb.visual.transformer.resblocks[:1]
    x = images(128, 128, batch=1)
    y = x.clone()
    y[..., :32, :] = torch.randn(1, 3, 32, 128)      # patch rows 0..3
    with torch.no_grad():
        tx, _ = bb.forward_tokens(x)
        ty, _ = bb.forward_tokens(y)
    assert torch.equal(tx[0, 12:], ty[0, 12:])
    # rows 4..7 share the first-pass window with rows 0..3: they change
    assert (tx[0, 4:8] - ty[0, 4:8]).abs().max() > 0.01
    # without the border mask (official mode) the wrapped rows do change
    bb.shift_mode = 'official'
    with torch.no_grad():
        ox, _ = bb.forward_tokens(x)
        oy, _ = bb.forward_tokens(y)
    assert (ox[0, 12:] - oy[0, 12:]).abs().max() > 0.01


# -- (d) padding -----------------------------------------------------------
def pad_noise_hook(bb, valid_hw):
    """Forward hook on ln_pre: random values at the padded tokens of every
    pass (the shifted pass's padding is rolled)."""
    def hook(module, args, out):
        if out.dim() != 4:
            return None
        out = out.clone()
        pad = torch.ones(out.shape[1:3], dtype=torch.bool)
        pad[:valid_hw[0], :valid_hw[1]] = False
        passes = [pad, torch.roll(pad, (bb.shift, bb.shift), (0, 1))]
        batch = out.shape[0] // (2 if bb.shifted else 1)
        for i in range(out.shape[0]):
            p = passes[i // batch]
            out[i][p] = 5 * torch.randn_like(out[i][p])
        return out
    return bb.visual.ln_pre.register_forward_hook(hook)


@pytest.mark.parametrize('with_cls,shifted', [(False, False), (True, False),
                                              (True, True)])
def test_padding_to_whole_windows(with_cls, shifted):
    # 200 x 232 px = 25 x 29 patches, padded to 32 x 32 (4 x 4 windows)
    bb = tiny(global_layers=[1, 3], with_cls_token=with_cls,
              shifted=shifted)
    x = images(200, 232, batch=1)
    with torch.no_grad():
        tokens, cls = bb.forward_tokens(x)
        handle = pad_noise_hook(bb, (25, 29))
        noisy, noisy_cls = bb.forward_tokens(x)
        handle.remove()
    assert tokens.shape == (1, 25, 29, 128)
    assert torch.isfinite(tokens).all()
    # padded tokens never act as keys of real tokens (nor of the class
    # token, which the real tokens attend to in the next global block)
    assert torch.equal(noisy, tokens)
    if with_cls:
        assert torch.equal(noisy_cls, cls)
    with torch.no_grad():
        (glob, ) = tiny(window_size=None)(x)
    assert glob.shape == (1, 128, 25, 29)
    assert (glob.permute(0, 2, 3, 1) - tokens).abs().max() > 0.1


def test_padding_noise_leaks_without_the_padding_labels(monkeypatch):
    # the hook above can fail: with region labels that ignore the padding,
    # the noise at the padded tokens reaches the real ones
    import ovd_ext.models.backbones.windowed_clip_vit as mod

    def unpadded(padded_hw, valid_hw, *args, **kwargs):
        return region_labels(padded_hw, padded_hw, *args, **kwargs)

    monkeypatch.setattr(mod, 'region_labels', unpadded)
    bb = tiny(global_layers=[1, 3])
    x = images(200, 232, batch=1)
    with torch.no_grad():
        clean, _ = bb.forward_tokens(x)
        handle = pad_noise_hook(bb, (25, 29))
        noisy, _ = bb.forward_tokens(x)
        handle.remove()
    assert (noisy - clean).abs().max() > 1e-3


# -- (e) - (h) construction ---------------------------------------------------
def test_non_vit_clip_is_refused():
    with pytest.raises(TypeError, match='ovd-tiny-rn'):
        WindowedCLIPViT(clip=dict(type='OpenCLIP', name='ovd-tiny-rn',
                                  checkpoint=None))


def test_even_global_layers():
    assert even_global_layers(12, 4) == [2, 5, 8, 11]
    assert even_global_layers(24, 4) == [5, 11, 17, 23]
    assert even_global_layers(4, 1) == [3]
    assert even_global_layers(4, 0) == []
    with pytest.raises(ValueError, match='num_global=5'):
        even_global_layers(4, 5)
    with pytest.raises(ValueError, match=r'global_layers \[4\]'):
        tiny(global_layers=[0, 4])
    assert tiny(global_layers=[3, 1, 1]).global_layers == [1, 3]


def test_frozen_head_and_trainable_blocks():
    bb = tiny()
    v = bb.visual
    assert not v.proj.requires_grad
    assert all(not p.requires_grad for p in v.ln_post.parameters())
    assert all(p.requires_grad for p in v.transformer.parameters())
    assert v.conv1.weight.requires_grad
    assert v.positional_embedding.requires_grad
    assert bb.out_channels == 128 and bb.patch_size == 8
    # one step of training reaches the blocks, not ln_post / proj
    bb.train()
    (fmap, ) = bb(images(64, 64, batch=1))
    fmap.square().mean().backward()
    assert v.transformer.resblocks[0].attn.in_proj_weight.grad.abs().sum() > 0
    assert v.proj.grad is None and v.ln_post.weight.grad is None


def test_frozen_stages():
    bb = tiny(frozen_stages=2)
    bb.train()
    v = bb.visual
    blocks = v.transformer.resblocks
    assert not v.conv1.weight.requires_grad
    assert not v.positional_embedding.requires_grad
    assert all(not p.requires_grad for p in blocks[1].parameters())
    assert all(p.requires_grad for p in blocks[2].parameters())
    assert not blocks[0].training and blocks[2].training
