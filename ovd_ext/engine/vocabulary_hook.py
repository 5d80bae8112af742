"""Check, before a run, that the model's vocabulary matches the dataset classes
and the loaded checkpoint's classifier."""
from __future__ import annotations

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmdet.registry import HOOKS


def named_text_classifiers(model) -> list:
    """``(name, module)`` of each module of ``model`` holding a vocabulary."""
    from ..models.layers.text_classifier import TextEmbeddingClassifier
    if is_model_wrapper(model):
        model = model.module
    return [(n, m) for n, m in model.named_modules()
            if isinstance(m, TextEmbeddingClassifier)]


def find_text_classifiers(model) -> list:
    """All modules of ``model`` that hold a class vocabulary."""
    return [m for _, m in named_text_classifiers(model)]


def check_checkpoint(model, state_dict: dict, checkpoint: str) -> None:
    """Raise if a classifier's weights in ``state_dict`` (read from the file
    ``checkpoint``) project to another embedding dimension than its
    vocabulary."""
    for name, clf in named_text_classifiers(model):
        key = f'{name}.proj.weight'
        weight = state_dict.get(key, state_dict.get(f'module.{key}'))
        if weight is not None:
            clf.check_weights(weight, checkpoint)


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
    """Fail fast when a vocabulary file and a dataset disagree on classes, or
    a vocabulary and the checkpoint being loaded on the embedding dimension."""

    priority = 'VERY_HIGH'

    def _check(self, runner, loader_name: str) -> None:
        loader = getattr(runner, loader_name)
        dataset = getattr(loader, 'dataset', None)
        meta = getattr(dataset, 'metainfo', None) or {}
        if 'classes' in meta:
            check_vocabulary(runner.model, meta['classes'],
                             loader_name.replace('_dataloader', ''))

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Check the checkpoint before mmengine loads it into the model (the
        classifiers' own check cannot name the file)."""
        state = checkpoint.get('state_dict', checkpoint)
        source = runner.cfg.get('load_from') or 'the checkpoint being resumed'
        check_checkpoint(runner.model, state, source)

    def before_train(self, runner) -> None:
        self._check(runner, 'train_dataloader')

    def before_val(self, runner) -> None:
        self._check(runner, 'val_dataloader')

    def before_test(self, runner) -> None:
        self._check(runner, 'test_dataloader')
