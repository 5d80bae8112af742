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


# --- bg_embedding='text': the vocabulary's 'background' row (DITO Sec. 3.1)

def _rows(path):
    return torch.from_numpy(np.load(path))


def test_text_background_logit_is_scaled_cosine_with_background_row(
        vocab_factory):
    path = vocab_factory(['background', *CLASSES], dim=8)
    clf = TextEmbeddingClassifier(12, 4, path, logit_scale=20.0,
                                  bg_embedding='text')
    rows = _rows(path)
    # the background row is not a class
    assert clf.class_names == CLASSES and clf.num_classes == 3
    torch.testing.assert_close(clf.class_embeddings, rows[1:])
    torch.testing.assert_close(clf.bg_text, rows[0])
    x = torch.randn(5, 12)
    logits = clf(x)
    assert logits.shape == (5, 4)
    # hand-computed cosines: s * <W x / |W x|, t>
    wx = x @ clf.proj.weight.t() + clf.proj.bias
    wx = wx / wx.norm(dim=1, keepdim=True)
    torch.testing.assert_close(logits[:, :3], 20.0 * wx @ rows[1:].t())
    torch.testing.assert_close(logits[:, 3], 20.0 * wx @ rows[0])
    assert logits[:, 3].abs().max() > 0
    # a fixed buffer: neither trained nor saved
    assert all(p is not clf.bg_text for p in clf.parameters())
    assert 'bg_text' not in clf.state_dict()
    clf(x).sum().backward()
    assert clf.bg_text.grad is None and not clf.bg_text.requires_grad


def test_text_background_row_may_be_anywhere_and_counts_not(vocab_factory):
    path = vocab_factory(['cat', 'background', 'dog', 'remote control'])
    clf = TextEmbeddingClassifier(12, 4, path, bg_embedding='text',
                                  expected_classes=CLASSES)
    torch.testing.assert_close(clf.bg_text, _rows(path)[1])
    assert clf.class_names == CLASSES
    # out_features counts the classes without the background row
    with pytest.raises(ValueError,
                       match=r"3 classes besides 'background' .*=4"):
        TextEmbeddingClassifier(12, 5, path, bg_embedding='text')
    with pytest.raises(ValueError, match=r"index 1: .* says 'dog' but"):
        TextEmbeddingClassifier(12, 4, path, bg_embedding='text',
                                expected_classes=['cat', 'cow', 'dog'])


def test_text_background_needs_the_entry(vocab_factory):
    path = vocab_factory(CLASSES)
    with pytest.raises(ValueError, match="has no 'background' class") as err:
        TextEmbeddingClassifier(12, 4, path, bg_embedding='text')
    msg = str(err.value)
    assert path in msg and '--background' in msg
    assert 'vocabulary_background = True' in msg


def test_zero_and_learned_keep_background_as_a_class(vocab_factory):
    path = vocab_factory(['background', *CLASSES])
    for mode in ('zero', 'learned'):
        clf = TextEmbeddingClassifier(12, 5, path, bg_embedding=mode)
        assert clf.class_names == ['background', *CLASSES]
        assert clf(torch.randn(2, 12)).shape == (2, 5)
    with pytest.raises(ValueError, match='bg_embedding must be one of'):
        TextEmbeddingClassifier(12, 5, path, bg_embedding='word')


def test_set_vocabulary_with_and_without_background_row(vocab_factory):
    path = vocab_factory(['background', *CLASSES], dim=8)
    clf = TextEmbeddingClassifier(12, 4, path, logit_scale=10.0,
                                  bg_embedding='text')
    old_bg = clf.bg_text.clone()
    x = torch.randn(5, 12)
    region = F.normalize(clf.proj(x), dim=1)
    # without a background row: the classes change, the background stays
    new = F.normalize(torch.randn(2, 8), dim=1)
    clf.set_vocabulary(new, ['a', 'b'])
    assert clf.class_names == ['a', 'b'] and clf.num_classes == 2
    torch.testing.assert_close(clf.bg_text, old_bg)
    out = clf(x)
    torch.testing.assert_close(out[:, :2], 10.0 * region @ new.t())
    torch.testing.assert_close(out[:, 2], 10.0 * region @ old_bg)
    # with one: it replaces the background and is no class
    rows = torch.randn(3, 8)
    clf.set_vocabulary(rows, ['x', 'background', 'y'])
    assert clf.class_names == ['x', 'y'] and clf.num_classes == 2
    bg = F.normalize(rows[1], dim=0)
    torch.testing.assert_close(clf.bg_text, bg)
    out = clf(x)
    torch.testing.assert_close(
        out[:, :2], 10.0 * region @ F.normalize(rows[[0, 2]], dim=1).t())
    torch.testing.assert_close(out[:, 2], 10.0 * region @ bg)
    with pytest.raises(ValueError, match='3 embeddings but 2 class names'):
        clf.set_vocabulary(rows, ['background', 'x'])
    # 'zero' mode: a 'background' row is an ordinary class
    zero = TextEmbeddingClassifier(12, 5, path)
    zero.set_vocabulary(rows, ['x', 'background', 'y'])
    assert zero.class_names == ['x', 'background', 'y']
