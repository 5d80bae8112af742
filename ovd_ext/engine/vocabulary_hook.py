"""Check, before a run, that the model's vocabulary matches the dataset classes."""
from __future__ import annotations

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmdet.registry import HOOKS


def find_text_classifiers(model) -> list:
    """All modules of ``model`` that hold a class vocabulary."""
    from ..models.layers.text_classifier import TextEmbeddingClassifier
    if is_model_wrapper(model):
        model = model.module
    return [m for m in model.modules() if isinstance(m, TextEmbeddingClassifier)]


def check_vocabulary(model, classes, where: str) -> None:
    """Raise if a classifier's class names differ from ``classes``."""
    classes = list(classes)
    for clf in find_text_classifiers(model):
        names = list(clf.class_names)
        if len(names) != len(classes):
            raise ValueError(
                f'vocabulary size mismatch: {clf.vocabulary_path} has '
                f'{len(names)} classes but the {where} dataset has {len(classes)}')
        placeholders = all(n == f'class_{i}' for i, n in enumerate(names))
        if names != classes and not placeholders:
            i = next(i for i, (a, b) in enumerate(zip(names, classes)) if a != b)
            raise ValueError(
                f'class order mismatch at index {i}: {clf.vocabulary_path} '
                f'says {names[i]!r} but the {where} dataset says {classes[i]!r}')


@HOOKS.register_module()
class VocabularyCheckHook(Hook):
    """Fail fast when a vocabulary file and a dataset disagree on classes."""

    priority = 'VERY_HIGH'

    def _check(self, runner, loader_name: str) -> None:
        loader = getattr(runner, loader_name)
        dataset = getattr(loader, 'dataset', None)
        meta = getattr(dataset, 'metainfo', None) or {}
        if 'classes' in meta:
            check_vocabulary(runner.model, meta['classes'],
                             loader_name.replace('_dataloader', ''))

    def before_train(self, runner) -> None:
        self._check(runner, 'train_dataloader')

    def before_val(self, runner) -> None:
        self._check(runner, 'val_dataloader')

    def before_test(self, runner) -> None:
        self._check(runner, 'test_dataloader')
