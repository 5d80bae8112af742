"""Open-vocabulary bbox heads: mmdet's bbox heads with the text classifier.

``CLIPBBoxHead``: mmdet's Shared2FC head; ``CLIPEmbeddingBBoxHead``: mmdet's
plain ``BBoxHead`` on RoI vectors that already are CLIP embeddings
(RegionCLIP's C4 head).


RoI feature -> shared FCs -> :class:`TextEmbeddingClassifier` (projection to the
text dimension, cosine logits against class embeddings, background column) and
class-agnostic box regression. Everything else (targets, sampling, NMS,
prediction) is mmdet's ``BBoxHead``.

Classes named in ``novel_classes`` are excluded from training: their logits are
masked out of the classification loss, so they neither receive positives (the
dataset drops their annotations) nor are pushed down as negatives; at test time
they score like any other class (OVR-CNN / ViLD / RegionCLIP protocol).
"""
from __future__ import annotations

from typing import Sequence

import torch
from mmdet.models.roi_heads.bbox_heads import BBoxHead, Shared2FCBBoxHead
from mmdet.registry import MODELS
from torch import Tensor

from ...utils.class_splits import resolve_class_names
from ...vlm.vocabulary import (load_background_vocabulary,
                                load_class_embeddings)

#: Logit given to excluded classes in the training loss; finite so that sigmoid
#: losses stay free of inf * 0.
MASKED_LOGIT = -1e4


class TextClassifierMixin:
    """The open-vocabulary part of a bbox head: a
    :class:`TextEmbeddingClassifier` as ``fc_cls``, novel classes excluded
    from the loss, vocabulary swaps. Used by :class:`CLIPBBoxHead` (FC
    layers first) and :class:`CLIPEmbeddingBBoxHead` (none)."""

    @staticmethod
    def text_classifier_args(vocabulary: str, num_classes: int | None,
                             logit_scale: float, learn_scale: bool,
                             bg_embedding: str, projection: str = 'linear'
                             ) -> tuple[int, dict]:
        """``(num_classes, cls_predictor_cfg)`` for mmdet's ``BBoxHead``;
        with ``bg_embedding='text'`` the vocabulary's ``'background'`` row
        is not counted."""
        if not vocabulary:
            raise ValueError('a CLIP bbox head needs `vocabulary`, the path '
                             'of a class embedding .npy '
                             '(tools/embed_vocabulary.py)')
        if bg_embedding == 'text':  # the 'background' row is no class
            _, emb, _ = load_background_vocabulary(vocabulary)
            what = "classes besides 'background'"
        else:
            emb, _ = load_class_embeddings(vocabulary)
            what = 'classes'
        if num_classes is not None and num_classes != emb.shape[0]:
            raise ValueError(
                f'vocabulary size mismatch: {vocabulary} has {emb.shape[0]} '
                f'{what} but the bbox head config says '
                f'num_classes={num_classes}')
        return emb.shape[0], dict(
            type='TextEmbeddingClassifier', vocabulary=vocabulary,
            logit_scale=logit_scale, learn_scale=learn_scale,
            bg_embedding=bg_embedding, projection=projection)

    def exclude_novel(self, vocabulary: str,
                      novel_classes: Sequence[str] | str | None) -> None:
        """Mask ``novel_classes`` out of the training loss."""
        names = self.fc_cls.class_names
        novel = resolve_class_names(novel_classes)
        unknown = sorted(set(novel) - set(names))
        if unknown:
            raise ValueError(f'novel class {unknown[0]!r} is not in the '
                             f'vocabulary {vocabulary} ({len(unknown)} unknown)')
        mask = torch.zeros(len(names) + 1, dtype=torch.bool)
        novel_idx = [names.index(n) for n in novel]
        mask[novel_idx] = True
        self.register_buffer('train_excluded', mask, persistent=False)
        if hasattr(self.loss_cls, 'exclude_classes'):  # e.g. federated loss
            self.loss_cls.exclude_classes(novel_idx)

    @property
    def class_names(self) -> list[str]:
        """Names of the classes in the current vocabulary."""
        return self.fc_cls.class_names

    def cls_features(self, x: Tensor) -> Tensor:
        """The features the classifier sees (``fc_cls``'s input) for RoI
        features ``x``; ``fc_cls(cls_features(x))`` are the class logits of
        ``forward(x)``."""
        return x.flatten(1)

    def region_embeddings(self, x: Tensor) -> Tensor:
        """L2-normalised region embeddings in the text space for RoI
        features ``x`` (XPM's ``h_Emb(f_r)``, Eq. 1-2): the vectors the
        classifier compares with the class embeddings."""
        return self.fc_cls.embed(self.cls_features(x))

    def set_vocabulary(self, embeddings: Tensor, class_names: Sequence[str],
                       source: str = '(new)') -> None:
        """Swap the vocabulary at test time; ``num_classes`` follows it.
        ``source`` names the embeddings (e.g. their file) in errors."""
        self.fc_cls.set_vocabulary(embeddings, class_names, source)
        self.num_classes = self.fc_cls.num_classes  # without a text background
        self.train_excluded = torch.zeros(
            self.num_classes + 1, dtype=torch.bool,
            device=self.train_excluded.device)

    def loss(self, cls_score: Tensor, bbox_pred: Tensor, rois: Tensor,
             labels: Tensor, label_weights: Tensor, bbox_targets: Tensor,
             bbox_weights: Tensor, reduction_override: str | None = None) -> dict:
        """mmdet's bbox loss with the excluded (novel) class logits masked."""
        if cls_score is not None and self.train_excluded.any():
            cls_score = cls_score.masked_fill(self.train_excluded, MASKED_LOGIT)
        return super().loss(cls_score, bbox_pred, rois, labels, label_weights,
                            bbox_targets, bbox_weights, reduction_override)


@MODELS.register_module()
class CLIPBBoxHead(TextClassifierMixin, Shared2FCBBoxHead):
    """Shared2FC bbox head that classifies against CLIP text embeddings.

    Args:
        vocabulary: ``.npy`` class embeddings (DESIGN.md §3). ``num_classes``
            follows the file when left ``None``; if given it must match.
        novel_classes: names excluded from training (list, a txt file with one
            name per line, or an LVIS json whose rare classes are novel).
        logit_scale, learn_scale, bg_embedding: see
            :class:`TextEmbeddingClassifier`.
        reg_class_agnostic: class-agnostic regression (default True, needed
            for unseen classes).
        loss_cls: default is RegionCLIP's weighted CE without focal scaling;
            use ``FocalScaledCrossEntropyLoss`` with ``bg_weight``/``focal_gamma``
            or ``FederatedSigmoidLoss`` for LVIS.
    """

    def __init__(self,
                 vocabulary: str,
                 num_classes: int | None = None,
                 novel_classes: Sequence[str] | str | None = None,
                 logit_scale: float = 50.0,
                 learn_scale: bool = False,
                 bg_embedding: str = 'zero',
                 reg_class_agnostic: bool = True,
                 loss_cls: dict = dict(type='FocalScaledCrossEntropyLoss'),
                 **kwargs) -> None:
        num, predictor = self.text_classifier_args(
            vocabulary, num_classes, logit_scale, learn_scale, bg_embedding)
        super().__init__(num_classes=num,
                         reg_class_agnostic=reg_class_agnostic,
                         cls_predictor_cfg=predictor,
                         loss_cls=loss_cls, **kwargs)
        self.exclude_novel(vocabulary, novel_classes)

    def cls_features(self, x: Tensor) -> Tensor:
        """mmdet's ``ConvFCBBoxHead.forward`` up to ``fc_cls``: shared convs
        and FCs, then the classification branch."""
        for conv in self.shared_convs:
            x = conv(x)
        if self.num_shared_fcs > 0:
            if self.with_avg_pool:
                x = self.avg_pool(x)
            x = x.flatten(1)
            for fc in self.shared_fcs:
                x = self.relu(fc(x))
        for conv in self.cls_convs:
            x = conv(x)
        if x.dim() > 2:
            if self.with_avg_pool:
                x = self.avg_pool(x)
            x = x.flatten(1)
        for fc in self.cls_fcs:
            x = self.relu(fc(x))
        return x


@MODELS.register_module()
class CLIPEmbeddingBBoxHead(TextClassifierMixin, BBoxHead):
    """Bbox head on RoI vectors that already are CLIP region embeddings
    (RegionCLIP's C4 head: ``layer4`` + attention pool): no FC layers, the
    cosine classifier without a projection (``projection='none'``), and a
    class-agnostic linear box regressor (RegionCLIP's ResNet50-C4 Faster
    RCNN, Sec. 4 (implementation details); class agnostic as the official
    checkpoints' ``[4, D]`` regressor).

    Args:
        in_channels: the embedding dimension D (must match the vocabulary).
        vocabulary, novel_classes, logit_scale, learn_scale, bg_embedding:
            as :class:`CLIPBBoxHead`; RegionCLIP uses ``logit_scale=100``
            (1 / tau, tau = 0.01) and the zero background embedding.
        projection: ``'none'`` (default) or ``'linear'``.
    """

    def __init__(self,
                 vocabulary: str,
                 in_channels: int,
                 num_classes: int | None = None,
                 novel_classes: Sequence[str] | str | None = None,
                 logit_scale: float = 100.0,
                 learn_scale: bool = False,
                 bg_embedding: str = 'zero',
                 projection: str = 'none',
                 reg_class_agnostic: bool = True,
                 loss_cls: dict = dict(type='FocalScaledCrossEntropyLoss'),
                 **kwargs) -> None:
        num, predictor = self.text_classifier_args(
            vocabulary, num_classes, logit_scale, learn_scale, bg_embedding,
            projection)
        super().__init__(with_avg_pool=False, roi_feat_size=1,
                         in_channels=in_channels, num_classes=num,
                         reg_class_agnostic=reg_class_agnostic,
                         cls_predictor_cfg=predictor, loss_cls=loss_cls,
                         **kwargs)
        self.exclude_novel(vocabulary, novel_classes)
