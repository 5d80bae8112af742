import os.path as osp

import open_clip
import pytest
import torch

from ovd_ext.vlm import (CUSTOM_MODELS, CLIPWrapper, build_clip,
                         encode_image, encode_text)

IMG = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize('name,kind', [('ovd-tiny-vit', 'vit'),
                                       ('ovd-tiny-rn', 'resnet')])
def test_custom_configs_registered_and_small(name, kind):
    assert name in CUSTOM_MODELS and name in open_clip.list_models()
    model = open_clip.create_model(name)  # the plain open_clip path
    n_bytes_fp16 = 2 * sum(p.numel() for p in model.parameters())
    assert n_bytes_fp16 < 7.0e6, n_bytes_fp16  # shipped fp16 ckpt < 8 MB
    assert model.visual.output_dim == 128
    out = model.encode_image(torch.zeros(1, 3, 64, 64))
    assert out.shape == (1, 128)
    clip = build_clip(name, None)
    assert isinstance(clip, CLIPWrapper) and clip.kind == kind
    assert clip.image_size == (64, 64) and clip.embed_dim == 128
    assert clip.tokenizer(['a cat']).shape == (1, 32)


def test_frozen_stays_in_eval(tiny_rn):
    tiny_rn.train()
    assert not tiny_rn.training and not tiny_rn.model.visual.training
    assert not any(p.requires_grad for p in tiny_rn.parameters())


def test_missing_checkpoint_names_path_and_remedy(tmp_path):
    path = str(tmp_path / 'nope' / 'ovd-tiny-vit.pt')
    with pytest.raises(FileNotFoundError) as e:
        build_clip('ovd-tiny-vit', path)
    assert osp.abspath(path) in str(e.value)
    assert 'train_tiny_clip.py' in str(e.value)
    path = str(tmp_path / 'RN50.pt')
    with pytest.raises(FileNotFoundError) as e:
        build_clip('RN50', path)
    msg = str(e.value)
    assert path in msg and 'machine with internet' in msg and 'openai' in msg


def test_hub_names_and_tags_refused():
    with pytest.raises(ValueError, match='hub tag'):
        build_clip('RN50', 'openai')
    with pytest.raises(ValueError, match='architecture name'):
        build_clip('hf-hub:timm/foo', None)
    with pytest.raises(ValueError, match='unknown open_clip model'):
        build_clip('no-such-model', None)


def _outputs(clip):
    return (encode_image(clip, IMG), encode_text(clip, ['cat', 'dog'], 'short'))


def test_checkpoint_round_trip_pt(tmp_path, tiny_rn):
    path = tmp_path / 'rn.pt'
    torch.save(tiny_rn.model.state_dict(), path)
    loaded = build_clip('ovd-tiny-rn', str(path))
    assert loaded.checkpoint == str(path)
    for a, b in zip(_outputs(tiny_rn), _outputs(loaded)):
        assert torch.equal(a, b)


def test_checkpoint_round_trip_fp16_and_wrapped(tmp_path, tiny_vit,
                                                tiny_vit_ckpt):
    ref = {k: v.half().float() for k, v in tiny_vit.model.state_dict().items()}
    loaded = build_clip('ovd-tiny-vit', tiny_vit_ckpt)
    for k, v in loaded.model.state_dict().items():
        assert torch.equal(v, ref[k]), k
    # {'state_dict': {'module.' + key: ...}} as written by DDP trainers
    wrapped = tmp_path / 'wrapped.pth'
    torch.save({'state_dict': {'module.' + k: v for k, v in ref.items()}},
               wrapped)
    again = build_clip('ovd-tiny-vit', str(wrapped))
    for a, b in zip(_outputs(loaded), _outputs(again)):
        assert torch.equal(a, b)


def test_checkpoint_round_trip_safetensors(tmp_path, tiny_rn):
    from safetensors.torch import save_file
    path = tmp_path / 'rn.safetensors'
    save_file({k: v.contiguous() for k, v in
               tiny_rn.model.state_dict().items()}, str(path))
    loaded = build_clip('ovd-tiny-rn', str(path))
    assert torch.equal(_outputs(loaded)[0], _outputs(tiny_rn)[0])


def test_wrong_architecture_is_clear(tiny_vit_ckpt):
    with pytest.raises(RuntimeError, match='does not fit open_clip model'):
        build_clip('ovd-tiny-rn', tiny_vit_ckpt)


def test_torchscript_checkpoint_like_openai(tmp_path, tiny_rn):
    # OpenAI's original release is a TorchScript archive
    path = tmp_path / 'ts.pt'
    torch.jit.script(tiny_rn.model).save(str(path))
    loaded = build_clip('ovd-tiny-rn', str(path))
    assert torch.equal(_outputs(loaded)[0], _outputs(tiny_rn)[0])
