"""Text-tower warm start and per-tower learning rates."""
import pytest
import torch

from ovd_ext.vlm import build_clip
from ovd_ext.vlm.training import save_fp16_weights
from ovd_ext.vlm.training.loop import param_groups
from ovd_ext.vlm.training.warm_start import copy_text_tower, is_text_param


def test_copy_text_tower_from_rn_into_vit(tmp_path):
    torch.manual_seed(0)
    rn = build_clip('ovd-tiny-rn', None)
    with torch.no_grad():
        rn.model.logit_scale.fill_(3.0)
    path = str(tmp_path / 'rn.pt')
    save_fp16_weights(rn.model, path)
    torch.manual_seed(1)
    vit = build_clip('ovd-tiny-vit', None, frozen=False)
    visual_before = vit.model.visual.conv1.weight.clone()
    names = copy_text_tower(vit.model, path)
    assert 'token_embedding.weight' in names and 'logit_scale' in names
    assert not any(n.startswith('visual.') for n in names)
    assert torch.equal(vit.model.visual.conv1.weight, visual_before)
    src = rn.model.state_dict()
    for n in names:   # fp16 round trip of the source weights
        assert torch.allclose(vit.model.state_dict()[n], src[n].half().float())
    # the text embeddings of both models now agree (up to fp16)
    tokens = vit.tokenizer(['a photo of a star.', 'a red cup'])
    with torch.no_grad():
        a = vit.model.encode_text(tokens)
        b = rn.model.encode_text(tokens)
    assert torch.allclose(a, b, atol=2e-2)


def test_copy_text_tower_errors(tmp_path):
    vit = build_clip('ovd-tiny-vit', None, frozen=False)
    with pytest.raises(FileNotFoundError, match='train that model first'):
        copy_text_tower(vit.model, str(tmp_path / 'missing.pt'))
    bad = {k: v for k, v in vit.model.state_dict().items()}
    bad['ln_final.weight'] = torch.zeros(7)
    torch.save(bad, tmp_path / 'bad.pt')
    with pytest.raises(ValueError, match=r'ln_final.weight has shape \(7,\)'):
        copy_text_tower(vit.model, str(tmp_path / 'bad.pt'))


def test_param_groups_split_decay_and_text_lr():
    vit = build_clip('ovd-tiny-vit', None, frozen=False)
    groups = param_groups(vit.model, 0.1, text_lr_mult=0.25)
    names = {id(p): n for n, p in vit.model.named_parameters()}
    seen = set()
    for g in groups:
        for p in g['params']:
            n = names[id(p)]
            seen.add(n)
            assert g['lr_mult'] == (0.25 if is_text_param(n) else 1.0)
            no_decay = (p.ndim < 2 or 'embedding' in n or 'positional' in n
                        or n == 'logit_scale')
            assert g['weight_decay'] == (0.0 if no_decay else 0.1), n
    assert seen == set(names.values())
