"""RichSem's semantic branch (Sec. 3.2, Eq. 3-4): train-only soft labels.

``f^soft = H_soft(O)``, ``o^soft = Contrast(f^soft, f^cats)``,
``L_soft = 1/N sum_i KL(s^t_i || o^soft_i)`` over the N matched proposals /
queries. ``H_soft`` is a refinement of its own (not the classification or
localisation branch: sharing them hurts, Table 3b): ``num_fcs`` FC + ReLU
layers on the flattened object features ``O`` (RoI features of a Faster
R-CNN, decoder states of a DINO). ``Contrast`` is the project's one cosine
classifier (:class:`~ovd_ext.models.layers.TextEmbeddingClassifier`: a linear
projection to the text dimension, cosine to the class text embeddings, times
a logit scale), without its background column. The logit scale is the
teacher's (:class:`CLIPSoftLabelTeacher`), set by the detector, so both sides
of the KL use the same ``Contrast``.

The branch exists only for training: detectors never run it at inference,
and the module is named ``semantic_branch`` wherever it lives so that
:func:`ovd_ext.utils.train_only.strip_train_only` leaves it out of exported
weights; loading weights without it keeps the built values (no missing
keys reported).
"""
from __future__ import annotations

from mmdet.registry import MODELS
from mmengine.model import BaseModule
from torch import Tensor, nn

from ...utils.train_only import TrainOnlyWeightsMixin
from ...vlm.vocabulary import load_class_embeddings
from ..losses.soft_label_kl import soft_label_kl
from .text_classifier import TextEmbeddingClassifier


@MODELS.register_module()
class SemanticBranch(TrainOnlyWeightsMixin, BaseModule):
    """``H_soft`` + ``Contrast`` + ``L_soft`` (Eq. 4-5).

    Args:
        in_channels: size of one flattened object feature ``O``.
        vocabulary: class text embeddings ``.npy`` (the teacher's).
        num_fcs: FC + ReLU layers of ``H_soft`` (0: only ``Contrast``'s
            linear projection, the official DINO student).
        fc_channels: width of those layers.
        logit_scale: ``Contrast`` scale; None until the detector sets the
            teacher's.
        loss_weight: lambda_soft (Eq. 5; 0.5, Sec. 4.2).
    """

    def __init__(self, in_channels: int, vocabulary: str, num_fcs: int = 2,
                 fc_channels: int = 1024, logit_scale: float | None = None,
                 loss_weight: float = 0.5,
                 init_cfg: dict | list | None = dict(
                     type='Xavier', layer='Linear',
                     distribution='uniform')) -> None:
        super().__init__(init_cfg=init_cfg)
        layers, width = [], in_channels
        for _ in range(num_fcs):
            layers += [nn.Linear(width, fc_channels), nn.ReLU(inplace=True)]
            width = fc_channels
        self.fcs = nn.Sequential(*layers)
        num_classes = load_class_embeddings(vocabulary)[0].shape[0]
        self.contrast = TextEmbeddingClassifier(
            width, num_classes + 1, vocabulary, logit_scale=1.0)
        self.logit_scale = logit_scale
        self.loss_weight = float(loss_weight)

    @property
    def num_classes(self) -> int:
        return self.contrast.num_classes

    def forward(self, feats: Tensor) -> Tensor:
        """``o^soft`` logits ``[N, C]`` for object features ``[N, ...]``."""
        if self.logit_scale is None:
            raise RuntimeError('SemanticBranch.logit_scale is unset: the '
                               "detector sets it to its teacher's")
        x = self.fcs(feats.flatten(1))
        return self.logit_scale * (self.contrast.embed(x) @
                                   self.contrast.class_embeddings.t())

    def loss(self, feats: Tensor, teacher_logits: Tensor,
             avg_factor: float | None = None) -> Tensor:
        """``lambda_soft * L_soft`` (Eq. 4-5) against the teacher's logits
        of the matched ground truth."""
        if teacher_logits.shape[-1] != self.num_classes:
            raise ValueError(
                f'the teacher scores {teacher_logits.shape[-1]} classes but '
                f'the semantic branch {self.num_classes} '
                f'({self.contrast.vocabulary_path}); give both the same '
                'vocabulary')
        if len(feats) == 0:
            return feats.sum() * 0 + sum(p.sum() * 0 for p in
                                         self.parameters())
        return self.loss_weight * soft_label_kl(self(feats), teacher_logits,
                                                avg_factor)
