"""The one open-vocabulary classifier: cosine similarity to class text embeddings.

Every method in ovd_ext classifies regions with this module (DESIGN.md §2):

    logits_c = s * cos(W r, t_c),   c = 1..C,      logit_bg = s * cos(W r, t_bg)

where ``r`` is the region feature, ``W`` a linear projection to the text
dimension D, ``t_c`` the L2-normalised class text embedding loaded from a
vocabulary file (DESIGN.md §3) and ``s`` a fixed or learnable logit scale. The
background embedding ``t_bg`` is either all-zero (logit fixed at 0, as in
OVR-CNN / RegionCLIP transfer, RegionCLIP §4.1) or learned.

The vocabulary is a non-persistent buffer: checkpoints do not carry it, so the
same weights run with any vocabulary of the same dimension D (swap at test time
with :meth:`set_vocabulary` or a different ``vocabulary`` path in the config).
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from mmdet.registry import MODELS
from torch import Tensor, nn

from ...vlm.vocabulary import load_class_embeddings


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
        bg_embedding: ``'zero'`` (logit 0) or ``'learned'``.
        expected_classes: class names the vocabulary must match, if known.
    """

    def __init__(self,
                 in_features: int,
                 out_features: int,
                 vocabulary: str,
                 logit_scale: float = 50.0,
                 learn_scale: bool = False,
                 bg_embedding: str = 'zero',
                 expected_classes: Sequence[str] | None = None) -> None:
        super().__init__()
        if bg_embedding not in ('zero', 'learned'):
            raise ValueError(f"bg_embedding must be 'zero' or 'learned', "
                             f'got {bg_embedding!r}')
        emb, classes = load_class_embeddings(
            vocabulary, expected_classes=expected_classes,
            expected_num=out_features - 1,
            against=f'the bbox head (num_classes={out_features - 1})')
        dim = emb.shape[1]
        self.vocabulary_path = vocabulary
        self.class_names = classes
        self.proj = nn.Linear(in_features, dim)
        self.register_buffer('class_embeddings', torch.from_numpy(emb),
                             persistent=False)
        log_scale = torch.tensor(float(logit_scale)).log()
        if learn_scale:
            self.log_scale = nn.Parameter(log_scale)
        else:
            self.register_buffer('log_scale', log_scale)
        self.bg_embedding = (nn.Parameter(torch.randn(dim) / dim**0.5)
                             if bg_embedding == 'learned' else None)

    @property
    def embed_dim(self) -> int:
        """Text embedding dimension D."""
        return self.class_embeddings.shape[1]

    @property
    def num_classes(self) -> int:
        """Number of foreground classes C in the current vocabulary."""
        return self.class_embeddings.shape[0]

    def set_vocabulary(self, embeddings: Tensor, class_names: Sequence[str]) -> None:
        """Replace the class text embeddings [C', D] (test-time vocabulary swap)."""
        if embeddings.ndim != 2 or embeddings.shape[1] != self.embed_dim:
            raise ValueError(
                f'new vocabulary has shape {tuple(embeddings.shape)}, the '
                f'classifier needs [C, {self.embed_dim}]')
        if len(class_names) != embeddings.shape[0]:
            raise ValueError(f'{embeddings.shape[0]} embeddings but '
                             f'{len(class_names)} class names')
        self.class_embeddings = F.normalize(embeddings.float(), dim=1).to(
            self.class_embeddings.device)
        self.class_names = list(class_names)

    def embed(self, x: Tensor) -> Tensor:
        """Project region features to L2-normalised text-space embeddings."""
        return F.normalize(self.proj(x), dim=-1)

    def forward(self, x: Tensor) -> Tensor:
        """Return logits [N, C + 1]; the last column is background."""
        region = self.embed(x)
        scale = self.log_scale.exp()
        logits = region @ self.class_embeddings.t()
        if self.bg_embedding is None:
            bg = logits.new_zeros(logits.shape[0], 1)
        else:
            bg = region @ F.normalize(self.bg_embedding, dim=0)[:, None]
        return scale * torch.cat([logits, bg], dim=1)
