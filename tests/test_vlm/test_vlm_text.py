import pytest
import torch
import torch.nn.functional as F
from open_clip import OPENAI_IMAGENET_TEMPLATES

from ovd_ext.vlm import IMAGENET80, SHORT, encode_text, get_templates


def _raw(clip, prompts):
    with torch.no_grad():
        return clip.model.encode_text(clip.tokenizer(prompts)).float()


def test_imagenet80_templates_are_clips():
    assert len(IMAGENET80) == 80 and len(set(IMAGENET80)) == 80
    assert list(IMAGENET80) == [t('{}') for t in OPENAI_IMAGENET_TEMPLATES]
    assert all(t.count('{}') == 1 for t in SHORT) and 5 <= len(SHORT) <= 7


def test_get_templates_validates():
    assert get_templates('short') == list(SHORT)
    assert get_templates(['{} here.']) == ['{} here.']
    with pytest.raises(ValueError, match='unknown template set'):
        get_templates('nope')
    with pytest.raises(ValueError, match='exactly one'):
        get_templates(['no placeholder'])


def test_prompt_ensemble_is_mean_of_normalised_then_normalised(tiny_vit):
    temps = ['a photo of a {}.', 'a {}.', 'art of the {}.']
    emb = encode_text(tiny_vit, ['red circle', 'blue square'], temps,
                      batch_size=2)
    assert emb.shape == (2, 128) and emb.dtype == torch.float32
    assert torch.allclose(emb.norm(dim=1), torch.ones(2), atol=1e-6)
    for i, name in enumerate(['red circle', 'blue square']):
        raw = _raw(tiny_vit, [t.format(name) for t in temps])
        per = F.normalize(raw, dim=1)
        manual = F.normalize(per.mean(0), dim=0)
        assert torch.allclose(emb[i], manual, atol=1e-6)
    # the ensemble differs from any single prompt
    single = encode_text(tiny_vit, ['red circle'], temps[:1])
    assert (emb[0] - single[0]).abs().max() > 1e-3


def test_deterministic_and_batch_size_invariant(tiny_rn):
    names = ['triangle', 'star', 'ring', 'cross', 'heart']
    a = encode_text(tiny_rn, names, 'short', batch_size=4)
    b = encode_text(tiny_rn, names, 'short', batch_size=4)
    assert torch.equal(a, b)
    c = encode_text(tiny_rn, names, 'short', batch_size=256)
    assert torch.allclose(a, c, atol=1e-5)


def test_synonyms_are_averaged(tiny_vit):
    emb = encode_text(tiny_vit, ['cat', ['sofa', 'couch', 'settee']], 'short')
    parts = encode_text(tiny_vit, ['sofa', 'couch', 'settee'], 'short')
    assert torch.allclose(emb[1], F.normalize(parts.mean(0), dim=0),
                          atol=1e-6)
    assert torch.allclose(emb[0], encode_text(tiny_vit, [['cat']],
                                              'short')[0], atol=1e-6)
    # the string form is used as given (no implicit '/' splitting)
    slash = encode_text(tiny_vit, ['sofa/couch'], 'short')
    assert not torch.allclose(slash[0], emb[1], atol=1e-3)


def test_bad_class_and_empty_vocab(tiny_vit):
    with pytest.raises(ValueError, match='without any name'):
        encode_text(tiny_vit, ['cat', ['  ']], 'short')
    assert encode_text(tiny_vit, [], 'short').shape == (0, 128)
