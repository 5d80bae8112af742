"""The one open-vocabulary classifier: cosine similarity to class text embeddings.

Every method in ovd_ext classifies regions with this module (DESIGN.md §2):

    logits_c = s * cos(W r, t_c),   c = 1..C,      logit_bg = s * cos(W r, t_bg)

where ``r`` is the region feature, ``W`` a linear projection to the text
dimension D (or the identity, ``projection='none'``, for region features that
already live in the CLIP embedding space: RegionCLIP's attention-pool output), ``t_c`` the L2-normalised class text embedding loaded from a
vocabulary file (DESIGN.md §3) and ``s`` a fixed or learnable logit scale. The
background embedding ``t_bg`` is all-zero (logit fixed at 0, as in
OVR-CNN / RegionCLIP transfer, RegionCLIP Sec. 4 (implementation details)),
learned, or the fixed text embedding of the word "background", a row named
``'background'`` in the vocabulary file that is not one of the C classes
(DITO Sec. 3.1).

The vocabulary is a non-persistent buffer: checkpoints do not carry it, so the
same weights run with any vocabulary of the same dimension D (swap at test time
with :meth:`set_vocabulary` or a different ``vocabulary`` path in the config).
A vocabulary of another D does not fit the trained projection ``W``: loading
such weights or swapping in such a vocabulary is an error
(:func:`check_embedding_dim`), not mmengine's "size mismatch" warning that
would leave ``W`` random.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from mmdet.registry import MODELS
from torch import Tensor, nn

from ...vlm.vocabulary import (load_background_vocabulary,
                                load_class_embeddings, split_background)

#: Background column: logit 0, a learned embedding, or the vocabulary's
#: "background" text embedding (DITO Sec. 3.1).
BG_MODES = ('zero', 'learned', 'text')


class EmbeddingDimMismatchError(ValueError):
    """A vocabulary whose embedding dimension differs from a classifier's."""


def check_embedding_dim(vocabulary: str, vocab_dim: int, weights: str,
                        weights_dim: int) -> None:
    """Raise :class:`EmbeddingDimMismatchError` unless the vocabulary's D
    equals the D that the classifier's projection (from ``weights``) maps to.

    The one check of this contract (DESIGN.md §3), used when weights are
    loaded into a classifier (``Runner``, ``init_detector``,
    ``load_state_dict``; :class:`~ovd_ext.engine.VocabularyCheckHook` names the
    checkpoint file) and when a vocabulary is swapped in (tools/infer.py).
    """
    if vocab_dim != weights_dim:
        raise EmbeddingDimMismatchError(
            f'embedding dimension mismatch: the vocabulary {vocabulary} has '
            f'D={vocab_dim} but the classifier of {weights} projects to '
            f'D={weights_dim}; embed the classes with the CLIP the model was '
            'trained with (tools/embed_vocabulary.py)')


@MODELS.register_module()
class TextEmbeddingClassifier(nn.Module):
    """Cosine classifier over class text embeddings, with a background column.

    Args:
        in_features: region feature dimension (set by the bbox head).
        out_features: number of output columns, C + 1 (set by the bbox head);
            checked against the vocabulary file.
        vocabulary: path of the ``.npy`` class embeddings [C, D].
        logit_scale: initial (or fixed) scale ``s``. Default 50 follows Detic's
            normalised classifier; RegionCLIP's transfer uses 1/0.01 = 100.
        learn_scale: learn ``log s`` instead of keeping it fixed.
        bg_embedding: ``'zero'`` (logit 0), ``'learned'`` or ``'text'``: the
            vocabulary file's ``'background'`` row (DITO Sec. 3.1: "We
            prepend an additional background class embedding ... use the
            term 'background'"), fixed, kept out of the classes; a
            vocabulary swapped in with a ``'background'`` row replaces it.
        projection: ``'linear'`` (learned ``W``, default) or ``'none'``
            (identity: ``in_features`` must equal the vocabulary's D).
        expected_classes: class names the vocabulary must match, if known.
    """

    def __init__(self,
                 in_features: int,
                 out_features: int,
                 vocabulary: str,
                 logit_scale: float = 50.0,
                 learn_scale: bool = False,
                 bg_embedding: str = 'zero',
                 projection: str = 'linear',
                 expected_classes: Sequence[str] | None = None) -> None:
        super().__init__()
        if bg_embedding not in BG_MODES:
            raise ValueError(f'bg_embedding must be one of {BG_MODES}, '
                             f'got {bg_embedding!r}')
        if projection not in ('linear', 'none'):
            raise ValueError(f"projection must be 'linear' or 'none', "
                             f'got {projection!r}')
        num = out_features - 1          # classes, without a text background
        checks = dict(expected_classes=expected_classes, expected_num=num,
                      against=f'the bbox head (num_classes={num})')
        if bg_embedding == 'text':
            bg, emb, classes = load_background_vocabulary(vocabulary, **checks)
        else:
            bg, (emb, classes) = None, load_class_embeddings(vocabulary,
                                                             **checks)
        dim = emb.shape[1]
        self.vocabulary_path = vocabulary
        self.class_names = classes
        if projection == 'none' and in_features != dim:
            raise ValueError(
                f"projection='none' needs region features of the vocabulary's "
                f'dimension: in_features={in_features} but {vocabulary} has '
                f'D={dim}')
        self.proj = (nn.Linear(in_features, dim) if projection == 'linear'
                     else nn.Identity())
        self.register_buffer('class_embeddings', torch.from_numpy(emb),
                             persistent=False)
        log_scale = torch.tensor(float(logit_scale)).log()
        if learn_scale:
            self.log_scale = nn.Parameter(log_scale)
        else:
            self.register_buffer('log_scale', log_scale)
        self.bg_embedding = (nn.Parameter(torch.randn(dim) / dim**0.5)
                             if bg_embedding == 'learned' else None)
        self.bg_mode = bg_embedding
        if bg is not None:      # fixed text embedding, not in checkpoints
            self.register_buffer('bg_text', F.normalize(
                torch.from_numpy(np.ascontiguousarray(bg)), dim=0),
                persistent=False)

    @property
    def embed_dim(self) -> int:
        """Text embedding dimension D."""
        return self.class_embeddings.shape[1]

    @property
    def num_classes(self) -> int:
        """Number of foreground classes C in the current vocabulary."""
        return self.class_embeddings.shape[0]

    def set_vocabulary(self, embeddings: Tensor, class_names: Sequence[str],
                       source: str = '(new)') -> None:
        """Replace the class text embeddings [C', D] (test-time vocabulary
        swap); ``source`` names them in errors (e.g. their file).

        With ``bg_embedding='text'`` a class named ``'background'`` is not a
        class: its row replaces the background embedding; without one the
        current background embedding is kept.
        """
        if embeddings.ndim != 2:
            raise ValueError(f'the vocabulary {source} has shape '
                             f'{tuple(embeddings.shape)}, expected [C, D]')
        check_embedding_dim(source, embeddings.shape[1],
                            f'the model built with {self.vocabulary_path}',
                            self.embed_dim)
        if len(class_names) != embeddings.shape[0]:
            raise ValueError(f'{embeddings.shape[0]} embeddings but '
                             f'{len(class_names)} class names')
        if self.bg_mode == 'text':
            bg, embeddings, class_names = split_background(embeddings,
                                                           class_names)
            if bg is not None:
                self.bg_text = F.normalize(bg.float(), dim=0).to(
                    self.bg_text.device)
        self.class_embeddings = F.normalize(embeddings.float(), dim=1).to(
            self.class_embeddings.device)
        self.class_names = list(class_names)

    def check_weights(self, proj_weight: Tensor, weights: str) -> None:
        """Raise unless ``proj_weight`` (the ``proj.weight`` of ``weights``,
        e.g. a checkpoint) projects to this classifier's vocabulary D."""
        check_embedding_dim(self.vocabulary_path, self.embed_dim, weights,
                            proj_weight.shape[0])

    def _load_from_state_dict(self, state_dict: dict, prefix: str,
                              *args, **kwargs) -> None:
        """Refuse weights of another D (torch and mmengine would only report
        a size mismatch and keep the random projection)."""
        weight = state_dict.get(prefix + 'proj.weight')
        if weight is not None and isinstance(self.proj, nn.Linear):
            self.check_weights(weight, 'the checkpoint being loaded')
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def embed(self, x: Tensor) -> Tensor:
        """Project region features to L2-normalised text-space embeddings."""
        return F.normalize(self.proj(x), dim=-1)

    def forward(self, x: Tensor) -> Tensor:
        """Return logits [N, C + 1]; the last column is background."""
        region = self.embed(x)
        scale = self.log_scale.exp()
        logits = region @ self.class_embeddings.t()
        if self.bg_mode == 'text':
            bg = region @ self.bg_text[:, None]
        elif self.bg_embedding is None:
            bg = logits.new_zeros(logits.shape[0], 1)
        else:
            bg = region @ F.normalize(self.bg_embedding, dim=0)[:, None]
        return scale * torch.cat([logits, bg], dim=1)
