from types import SimpleNamespace

import pytest
import torch

import ovd_ext  # noqa: F401
from ovd_ext.engine import VocabularyCheckHook
from ovd_ext.models.layers import TextEmbeddingClassifier


def runner_with(vocab, dataset_classes):
    model = torch.nn.Sequential(TextEmbeddingClassifier(4, 4, vocab))
    loader = SimpleNamespace(dataset=SimpleNamespace(
        metainfo=dict(classes=dataset_classes)))
    return SimpleNamespace(model=model, train_dataloader=loader,
                           val_dataloader=loader, test_dataloader=loader)


def test_matching_vocabulary_passes(vocab_factory):
    runner = runner_with(vocab_factory(['a', 'b', 'c']), ('a', 'b', 'c'))
    VocabularyCheckHook().before_train(runner)
    VocabularyCheckHook().before_test(runner)


def test_size_mismatch_names_file_and_numbers(vocab_factory):
    path = vocab_factory(['a', 'b', 'c'])
    runner = runner_with(path, ('a', 'b'))
    with pytest.raises(ValueError, match=r'3 classes but the test dataset has 2'):
        VocabularyCheckHook().before_test(runner)


def test_order_mismatch_names_index(vocab_factory):
    runner = runner_with(vocab_factory(['a', 'b', 'c']), ('a', 'c', 'b'))
    with pytest.raises(ValueError, match=r"index 1: .* says 'b' but the train"):
        VocabularyCheckHook().before_train(runner)


def test_text_background_row_is_not_compared_with_the_dataset(vocab_factory):
    """A 'background' row (bg_embedding='text') is the only extra entry a
    vocabulary may have over the dataset classes."""
    path = vocab_factory(['background', 'a', 'b', 'c'])
    model = torch.nn.Sequential(
        TextEmbeddingClassifier(4, 4, path, bg_embedding='text'))
    loader = SimpleNamespace(dataset=SimpleNamespace(
        metainfo=dict(classes=('a', 'b', 'c'))))
    runner = SimpleNamespace(model=model, train_dataloader=loader,
                             test_dataloader=loader)
    VocabularyCheckHook().before_train(runner)
    VocabularyCheckHook().before_test(runner)
    # a head that counts the row as a class does not match the dataset
    runner.model = torch.nn.Sequential(TextEmbeddingClassifier(4, 5, path))
    with pytest.raises(ValueError, match=r'4 classes but the test dataset'):
        VocabularyCheckHook().before_test(runner)
