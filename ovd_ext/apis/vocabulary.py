"""Change a trained model's vocabulary without retraining.

The class embeddings are a non-persistent buffer of every
:class:`TextEmbeddingClassifier`, so swapping them (and ``num_classes`` of the
heads that own them) is all a new vocabulary needs.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from mmengine.config import Config
from torch import Tensor, nn

from ..vlm.vocabulary import load_class_embeddings


def embed_texts(cfg: Config, texts: str) -> tuple[Tensor, list[str]]:
    """Embed ``'cat,sofa/couch'`` (classes by ',', synonyms by '/') with the
    CLIP named in the config's ``clip`` field; returns embeddings and names."""
    from ..vlm import build_clip_from_cfg, encode_text, from_names
    if 'clip' not in cfg:
        raise KeyError('the config has no `clip = dict(name=..., checkpoint=...)`'
                       ' field naming the CLIP that embeds its vocabulary')
    classes = from_names(texts)
    clip = build_clip_from_cfg(cfg.clip)
    with torch.no_grad():
        emb = encode_text(clip, classes.synonyms,
                          templates=cfg.clip.get('templates', 'imagenet80'))
    return emb, classes.names


def load_vocabulary(path: str) -> tuple[Tensor, list[str]]:
    """Read a vocabulary file (DESIGN.md §3) as a tensor and its class names."""
    emb, names = load_class_embeddings(path)
    return torch.from_numpy(np.ascontiguousarray(emb)), names


def set_vocabulary(model: nn.Module, embeddings: Tensor,
                   class_names: Sequence[str], source: str = '(new)') -> int:
    """Point every open-vocabulary head of ``model`` at a new vocabulary.

    Updates ``model.dataset_meta['classes']`` too, so that visualisers and
    result files name the new classes. ``source`` (e.g. the vocabulary file)
    is named in errors. Returns the number of heads changed.
    """
    heads = [m for m in model.modules()
             if hasattr(m, 'set_vocabulary') and hasattr(m, 'fc_cls')]
    if not heads:
        raise ValueError(f'{type(model).__name__} has no open-vocabulary head '
                         '(CLIPBBoxHead) whose vocabulary could be changed')
    for head in heads:
        head.set_vocabulary(embeddings, class_names, source)
    meta = dict(getattr(model, 'dataset_meta', None) or {})
    # the heads' classes: a 'background' row that a bg_embedding='text'
    # head took as its background embedding is not a class
    meta['classes'] = tuple(heads[0].class_names)
    meta.pop('palette', None)
    model.dataset_meta = meta
    return len(heads)


def ensure_vocabulary(cfg: Config) -> str:
    """Create the config's ``vocabulary`` file from its test classes (with
    ``'background'`` prepended when ``vocabulary_background = True``) if it is
    missing or stale (its sidecar records other CLIP weights than the file
    in the config's ``clip.checkpoint``, or none, or it lacks the
    ``'background'`` class that ``vocabulary_background = True`` asks for).

    Uses the CLIP in the config's ``clip`` field (prompt ensemble of
    ``clip.templates``); returns the vocabulary path.
    """
    import os.path as osp

    from ..vlm import build_clip_from_cfg, embed_vocabulary
    from ..vlm.class_names import BACKGROUND, from_config
    from ..vlm.vocabulary import file_sha256, read_sidecar
    path = cfg.get('vocabulary')
    if not path:
        raise KeyError('the config has no `vocabulary` field')
    clip_cfg = cfg.get('clip')
    if (osp.isfile(path) and cfg.get('vocabulary_background')
            and BACKGROUND not in read_sidecar(path).get('classes', [])):
        if not clip_cfg:
            raise KeyError(f'{path} has no {BACKGROUND!r} class, which the '
                           'config asks for (vocabulary_background = True), '
                           'and the config has no `clip` field to re-embed it')
        print(f'{path} has no {BACKGROUND!r} class but the config sets '
              'vocabulary_background = True: re-embedding the vocabulary')
    elif osp.isfile(path):
        weights = (clip_cfg or {}).get('checkpoint')
        if not weights or not osp.isfile(weights):
            return path
        recorded = read_sidecar(path).get('weights_sha256')
        if recorded == file_sha256(weights):
            return path
        print(f'{path} was made with other CLIP weights than {weights}: '
              're-embedding the vocabulary')
    if not clip_cfg:
        raise KeyError(f'{path} does not exist and the config has no `clip` '
                       'field to create it with')
    clip = build_clip_from_cfg(cfg.clip)
    embed_vocabulary(clip, from_config(cfg), path,
                     cfg.clip.get('templates', 'imagenet80'))
    return path
