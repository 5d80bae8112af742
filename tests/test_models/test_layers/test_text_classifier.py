import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.runner import load_checkpoint

from ovd_ext.models.layers import (EmbeddingDimMismatchError,
                                  TextEmbeddingClassifier)

CLASSES = ['cat', 'dog', 'remote control']


def test_logits_are_scaled_cosines_with_zero_background(vocab_factory):
    path = vocab_factory(CLASSES, dim=8)
    clf = TextEmbeddingClassifier(12, 4, path, logit_scale=20.0)
    x = torch.randn(5, 12)
    logits = clf(x)
    assert logits.shape == (5, 4)
    emb = torch.from_numpy(np.load(path))
    expected = 20.0 * F.normalize(clf.proj(x), dim=1) @ emb.t()
    torch.testing.assert_close(logits[:, :3], expected)
    assert torch.all(logits[:, 3] == 0)
    assert logits[:, :3].abs().max() <= 20.0 + 1e-4


def test_learned_background_and_scale_receive_gradients(vocab_factory):
    path = vocab_factory(CLASSES)
    clf = TextEmbeddingClassifier(12, 4, path, learn_scale=True,
                                  bg_embedding='learned')
    clf(torch.randn(3, 12)).sum().backward()
    assert clf.bg_embedding.grad is not None and clf.bg_embedding.grad.abs().sum() > 0
    assert clf.log_scale.grad is not None
    # the vocabulary is not a parameter and not in the checkpoint
    assert 'class_embeddings' not in clf.state_dict()
    assert all(p is not clf.class_embeddings for p in clf.parameters())


def test_size_mismatch_names_both_numbers_and_file(vocab_factory):
    path = vocab_factory(CLASSES)
    with pytest.raises(ValueError, match=r'3 classes.*num_classes=5') as err:
        TextEmbeddingClassifier(12, 6, path)
    assert path in str(err.value)


def test_set_vocabulary_changes_columns(vocab_factory):
    clf = TextEmbeddingClassifier(12, 4, vocab_factory(CLASSES, dim=8))
    new = torch.randn(2, 8)
    clf.set_vocabulary(new, ['a', 'b'])
    out = clf(torch.randn(5, 12))
    assert out.shape == (5, 3) and clf.class_names == ['a', 'b']
    torch.testing.assert_close(clf.class_embeddings.norm(dim=1), torch.ones(2))
    with pytest.raises(EmbeddingDimMismatchError,
                       match=r'other.npy has D=9 but .* projects to D=8'):
        clf.set_vocabulary(torch.randn(2, 9), ['a', 'b'], source='other.npy')


def test_weights_of_another_dimension_are_refused(vocab_factory, tmp_path):
    trained = TextEmbeddingClassifier(12, 4, vocab_factory(CLASSES, dim=8))
    ckpt = str(tmp_path / 'tiny.pth')
    torch.save({'state_dict': trained.state_dict()}, ckpt)
    # same D: the trained projection is loaded
    same = TextEmbeddingClassifier(
        12, 4, vocab_factory(CLASSES, dim=8, name='same.npy', seed=1))
    load_checkpoint(same, ckpt, logger='silent')
    torch.testing.assert_close(same.proj.weight, trained.proj.weight)
    # D=16 vocabulary, D=8 checkpoint: an error, not a warning + random proj
    path16 = vocab_factory(CLASSES, dim=16, name='d16.npy')
    other = TextEmbeddingClassifier(12, 4, path16)
    before = other.proj.weight.clone()
    with pytest.raises(EmbeddingDimMismatchError) as err:
        load_checkpoint(other, ckpt, logger='silent')
    assert str(err.value).startswith(
        f'embedding dimension mismatch: the vocabulary {path16} has D=16 but '
        'the classifier of the checkpoint being loaded projects to D=8')
    assert torch.equal(other.proj.weight, before)
    # plain torch loading meets the same check
    with pytest.raises(EmbeddingDimMismatchError, match='D=16 .* D=8'):
        other.load_state_dict(trained.state_dict())
