"""Class text embeddings on disk: ``.npy`` [C, D] float32 + sidecar ``.json``.

The one data contract for vocabularies (DESIGN.md §3). The sidecar holds
``{"classes": [...], "model": "...", "prompts": "..."}`` and, when the CLIP
weights came from a file, ``"weights_sha256"`` (so a vocabulary made with
other weights is recognised as stale); rows are L2-normalised. A class named
``'background'`` (:data:`~ovd_ext.vlm.class_names.BACKGROUND`, prepended as
row 0 on request) is the text background embedding of DITO Sec. 3.1: heads
with ``bg_embedding='text'`` split it off (:func:`load_background_vocabulary`).
"""
from __future__ import annotations

import json
import os.path as osp
from typing import Sequence

import numpy as np

from ..utils.io import write_json_atomic, write_npy_atomic
from .class_names import BACKGROUND


def sidecar_path(npy_path: str) -> str:
    """Return the sidecar json path that belongs to ``npy_path``."""
    root, _ = osp.splitext(npy_path)
    return root + '.json'


def save_class_embeddings(path: str, embeddings: np.ndarray,
                          classes: Sequence[str], model: str = '',
                          prompts: str = '',
                          weights_sha256: str | None = None) -> None:
    """Write L2-normalised ``embeddings`` [C, D] and their sidecar atomically."""
    emb = np.asarray(embeddings, dtype=np.float32)
    if emb.ndim != 2 or emb.shape[0] != len(classes):
        raise ValueError(f'embeddings of shape {emb.shape} do not match '
                         f'{len(classes)} class names for {path}')
    norms = np.linalg.norm(emb, axis=1, keepdims=True)
    emb = emb / np.clip(norms, 1e-12, None)
    if not path.endswith('.npy'):
        raise ValueError(f'class embeddings must be saved as .npy, got {path}')
    write_npy_atomic(path, emb)
    meta = dict(classes=list(classes), model=model, prompts=prompts)
    if weights_sha256:
        meta['weights_sha256'] = weights_sha256
    write_json_atomic(sidecar_path(path), meta, indent=1)


def _read_class_embeddings(path: str) -> tuple[np.ndarray, list[str]]:
    """The [C, D] float32 rows of ``path`` and its class names (from the
    sidecar, or ``class_i`` placeholders when no sidecar exists)."""
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'class embedding file {path} not found; create it with '
            f'`python tools/embed_vocabulary.py` (see README)')
    emb = np.load(path).astype(np.float32)
    if emb.ndim != 2:
        raise ValueError(f'{path}: expected a [C, D] array, got shape {emb.shape}')
    side = sidecar_path(path)
    if osp.isfile(side):
        with open(side) as f:
            classes = list(json.load(f)['classes'])
        if len(classes) != emb.shape[0]:
            raise ValueError(f'{path} has {emb.shape[0]} rows but its sidecar '
                             f'{side} lists {len(classes)} classes')
    else:
        classes = [f'class_{i}' for i in range(emb.shape[0])]
    return emb, classes


def _check_class_embeddings(path: str, emb: np.ndarray, classes: list[str],
                            expected_classes: Sequence[str] | None,
                            expected_dim: int | None,
                            expected_num: int | None, against: str,
                            what: str = 'classes') -> None:
    """Raise unless ``emb`` / ``classes`` (read from ``path``) meet the
    expectations of :func:`load_class_embeddings`."""
    side = sidecar_path(path)
    if expected_num is not None and emb.shape[0] != expected_num:
        raise ValueError(
            f'vocabulary size mismatch: {path} has {emb.shape[0]} {what} but '
            f'{against} expects {expected_num}')
    if expected_dim is not None and emb.shape[1] != expected_dim:
        raise ValueError(
            f'embedding dimension mismatch: {path} has D={emb.shape[1]} but '
            f'{against} expects D={expected_dim}')
    if expected_classes is not None:
        expected = list(expected_classes)
        if len(expected) != emb.shape[0]:
            raise ValueError(
                f'vocabulary size mismatch: {path} has {emb.shape[0]} {what} '
                f'but {against} has {len(expected)}')
        if osp.isfile(side) and classes != expected:
            diff = next(i for i, (a, b) in enumerate(zip(classes, expected))
                        if a != b)
            raise ValueError(
                f'class order mismatch at index {diff}: {side} says '
                f'{classes[diff]!r} but {against} says {expected[diff]!r}')


def load_class_embeddings(
    path: str,
    expected_classes: Sequence[str] | None = None,
    expected_dim: int | None = None,
    expected_num: int | None = None,
    against: str = 'the config',
) -> tuple[np.ndarray, list[str]]:
    """Load a vocabulary and check it against what its user expects.

    Args:
        path: the ``.npy`` file.
        expected_classes: class names it must hold, in order (e.g. the dataset's).
        expected_dim: embedding dimension D the consumer (a head) projects to.
        expected_num: number of classes C the consumer was configured with.
        against: what the expectations come from, named in error messages.

    Returns:
        The [C, D] float32 array and the class names (from the sidecar, or
        ``class_i`` placeholders when no sidecar exists).
    """
    emb, classes = _read_class_embeddings(path)
    _check_class_embeddings(path, emb, classes, expected_classes,
                            expected_dim, expected_num, against)
    return emb, classes


def split_background(embeddings, class_names: Sequence[str]):
    """Take the :data:`BACKGROUND` row out of a vocabulary (DITO Sec. 3.1:
    the text "background" embeds the background class).

    Works on numpy arrays and torch tensors [C, D]. Returns
    ``(background [D] or None, the other rows [C - 1, D], their names)``;
    ``None`` (and the input unchanged) when no class is named
    ``'background'``.
    """
    names = list(class_names)
    if BACKGROUND not in names:
        return None, embeddings, names
    i = names.index(BACKGROUND)
    keep = [j for j in range(len(names)) if j != i]
    return embeddings[i], embeddings[keep], [names[j] for j in keep]


def load_background_vocabulary(
    path: str,
    expected_classes: Sequence[str] | None = None,
    expected_dim: int | None = None,
    expected_num: int | None = None,
    against: str = 'the config',
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Load a vocabulary that holds a ``'background'`` class (made with
    ``tools/embed_vocabulary.py --background`` or ``vocabulary_background =
    True`` in a config) and split that row off.

    The expectations (see :func:`load_class_embeddings`) count the classes
    without the background row. Returns ``(background [D], class embeddings
    [C, D], class names)``.
    """
    emb, classes = _read_class_embeddings(path)
    bg, emb, classes = split_background(emb, classes)
    if bg is None:
        raise ValueError(
            f'the vocabulary {path} has no {BACKGROUND!r} class, whose text '
            "embedding bg_embedding='text' uses for the background; make the "
            'file with `python tools/embed_vocabulary.py --background ...` or '
            'set `vocabulary_background = True` in the config (the vocabulary '
            'is then embedded with the class "background" first)')
    _check_class_embeddings(path, emb, classes, expected_classes,
                            expected_dim, expected_num, against,
                            what=f'classes besides {BACKGROUND!r}')
    return bg, emb, classes


def read_sidecar(npy_path: str) -> dict:
    """The sidecar json of a vocabulary ({} when it has none)."""
    path = sidecar_path(npy_path)
    if not osp.isfile(path):
        return {}
    with open(path) as f:
        return json.load(f)


def file_sha256(path: str, chunk: int = 1 << 20) -> str:
    """SHA-256 hex digest of a file."""
    import hashlib
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(chunk), b''):
            h.update(block)
    return h.hexdigest()
