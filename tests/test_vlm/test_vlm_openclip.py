"""CLIP as an mmdet MODELS component (type='OpenCLIP') and frozen towers."""
import json
import os.path as osp
import shutil

import pytest
import torch
from mmdet.registry import MODELS
from mmengine.model import BaseModule

from ovd_ext.vlm import (MODEL_CONFIG_DIR, CLIPWrapper, OpenCLIP, build_clip,
                         encode_image, encode_regions, encode_text)

IMG = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(4))
BOXES = [torch.tensor([[0., 0., 40., 48.]]),
         torch.tensor([[8., 8., 64., 64.]])]


def _outputs(clip):
    return (encode_image(clip, IMG),
            encode_text(clip, ['star', 'key'], 'short'),
            encode_regions(clip, IMG, BOXES))


def test_built_from_config_equals_build_clip(tiny_rn_ckpt):
    clip = MODELS.build(dict(type='OpenCLIP', name='ovd-tiny-rn',
                             checkpoint=tiny_rn_ckpt))
    assert isinstance(clip, OpenCLIP) and isinstance(clip, CLIPWrapper)
    assert isinstance(clip, BaseModule)
    assert clip.name == 'ovd-tiny-rn' and clip.checkpoint == tiny_rn_ckpt
    assert clip.frozen_towers == ('image', 'text') and clip.frozen
    plain = build_clip('ovd-tiny-rn', tiny_rn_ckpt)
    ref = plain.model.state_dict()
    for k, v in clip.model.state_dict().items():
        assert torch.equal(v, ref[k]), k
    for a, b in zip(_outputs(clip), _outputs(plain)):
        assert torch.equal(a, b)


def test_model_config_json(tmp_path, tiny_vit_ckpt):
    cfg = tmp_path / 'my-tiny-vit.json'
    shutil.copy(osp.join(MODEL_CONFIG_DIR, 'ovd-tiny-vit.json'), cfg)
    clip = MODELS.build(dict(type='OpenCLIP', model_config=str(cfg),
                             checkpoint=tiny_vit_ckpt))
    assert clip.name == 'my-tiny-vit' and clip.kind == 'vit'
    ref = build_clip('ovd-tiny-vit', tiny_vit_ckpt)
    assert torch.equal(encode_image(clip, IMG), encode_image(ref, IMG))
    with pytest.raises(ValueError, match="defines 'my-tiny-vit'"):
        OpenCLIP(name='ovd-tiny-rn', model_config=str(cfg))
    missing = str(tmp_path / 'nope.json')
    with pytest.raises(FileNotFoundError, match='nope.json'):
        OpenCLIP(model_config=missing)
    with pytest.raises(ValueError, match='name=<open_clip architecture>'):
        OpenCLIP()
    bad = tmp_path / 'broken.json'
    bad.write_text(json.dumps({'embed_dim': 8}))
    with pytest.raises(ValueError, match='open_clip rejected'):
        OpenCLIP(model_config=str(bad))


def test_missing_checkpoint_keeps_the_clear_error(tmp_path):
    path = str(tmp_path / 'ovd-tiny-rn.pt')
    with pytest.raises(FileNotFoundError) as e:
        MODELS.build(dict(type='OpenCLIP', name='ovd-tiny-rn',
                          checkpoint=path))
    assert osp.abspath(path) in str(e.value)
    assert 'train_tiny_clip.py' in str(e.value)
    with pytest.raises(ValueError, match='init_cfg'):
        OpenCLIP(name='ovd-tiny-rn', init_cfg=dict(type='Pretrained'))


def test_frozen_image_tower_only(tiny_rn_ckpt):
    clip = MODELS.build(dict(type='OpenCLIP', name='ovd-tiny-rn',
                             checkpoint=tiny_rn_ckpt, frozen=['image']))
    assert clip.frozen_towers == ('image', ) and not clip.frozen
    named = dict(clip.model.named_parameters())
    assert not any(p.requires_grad for k, p in named.items()
                   if k.startswith('visual.'))
    text = [k for k in named if not k.startswith('visual.')]
    assert 'logit_scale' in text and 'token_embedding.weight' in text
    assert all(named[k].requires_grad for k in text)
    clip.train()
    assert clip.training and clip.model.transformer.training
    assert not clip.visual.training and not clip.visual.layer1.training
    assert not encode_image(clip, IMG).requires_grad
    assert not encode_regions(clip, IMG, BOXES).requires_grad
    txt = encode_text(clip, ['star'], 'single')
    assert txt.requires_grad
    txt.sum().backward()
    assert clip.model.text_projection.grad is not None
    clip.train(False)
    assert not clip.model.transformer.training


def test_trainable_image_tower_gets_region_gradients():
    torch.manual_seed(0)
    clip = build_clip('ovd-tiny-rn', None, frozen=('text', ))
    clip.train()
    assert clip.visual.training and not clip.model.transformer.training
    emb = encode_regions(clip, IMG, BOXES, layer='layer3')
    assert emb.requires_grad
    emb.sum().backward()
    assert clip.visual.layer3[0].conv1.weight.grad is not None   # C4 trunk
    assert clip.visual.attnpool.c_proj.weight.grad is not None   # head
    assert not encode_text(clip, ['star'], 'single').requires_grad


def test_frozen_argument_is_checked():
    with pytest.raises(ValueError, match='unknown tower'):
        build_clip('ovd-tiny-rn', None, frozen=('vision', ))
    assert build_clip('ovd-tiny-rn', None, frozen=False).frozen_towers == ()
    assert build_clip('ovd-tiny-rn', None, frozen='text').frozen_towers == \
        ('text', )


class _Holder(BaseModule):
    """A detector-like module that owns a CLIP and a layer of its own."""

    def __init__(self, clip_cfg):
        super().__init__(init_cfg=None)
        self.clip = MODELS.build(clip_cfg)
        self.head = torch.nn.Linear(4, 2)


def test_init_weights_keeps_the_loaded_weights(tiny_rn_ckpt):
    holder = _Holder(dict(type='OpenCLIP', name='ovd-tiny-rn',
                          checkpoint=tiny_rn_ckpt))
    before = {k: v.clone() for k, v in holder.clip.model.state_dict().items()}
    assert before
    holder.init_weights()
    assert holder.clip.is_init
    for k, v in holder.clip.model.state_dict().items():
        assert torch.equal(v, before[k]), k


def test_frozen_towers_are_rebuilt_from_the_checkpoint_not_saved(
        tiny_rn_ckpt):
    frozen = _Holder(dict(type='OpenCLIP', name='ovd-tiny-rn',
                          checkpoint=tiny_rn_ckpt))
    keys = set(frozen.state_dict())
    assert keys == {'head.weight', 'head.bias'}
    # a strict load of that state dict keeps the checkpoint's weights
    conv = frozen.clip.model.visual.conv1.weight.clone()
    frozen.load_state_dict(frozen.state_dict(), strict=True)
    assert torch.equal(frozen.clip.model.visual.conv1.weight, conv)
    # a trainable image tower is saved, the frozen text tower is not
    half = _Holder(dict(type='OpenCLIP', name='ovd-tiny-rn',
                        checkpoint=tiny_rn_ckpt, frozen=('text', )))
    keys = set(half.state_dict())
    assert 'clip.model.visual.conv1.weight' in keys
    assert not any(k.startswith('clip.model.transformer.') for k in keys)
    assert 'clip.model.logit_scale' not in keys
    kept = _Holder(dict(type='OpenCLIP', name='ovd-tiny-rn',
                        checkpoint=tiny_rn_ckpt, save_frozen=True))
    assert 'clip.model.visual.conv1.weight' in kept.state_dict()