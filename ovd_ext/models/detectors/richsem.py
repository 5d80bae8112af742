"""RichSem detectors (Sec. 3): a base detector, an online CLIP teacher and the
semantic branch, trained on detection and image-label data.

Per training batch (:meth:`RichSemMixin.attach_soft_targets`):

1. The teacher (:class:`~ovd_ext.models.layers.CLIPSoftLabelTeacher`) scores
   every ground-truth box once, under ``no_grad`` (Eq. 1-2): the tight boxes
   of detection images and the whole-image box of image-label images
   (``metainfo['image_label']``, set by ``WholeImageBox`` after the
   augmentation, so it is the augmented image's extent). The logits are
   stored as ``gt_instances.soft_logits``; the head's semantic branch learns
   them (Eq. 4).
2. Image-label ground truth keeps its mapped class (Eq. 6, done by
   ``ImageLabelDataset``) for ``L_cls``; a label of -1 (unlabelled data or
   unmapped classes) becomes the teacher's top class when its probability
   exceeds ``hard_label_threshold`` (Eq. 7), else it has no hard label
   (``cls_valid`` False: ``L_soft`` only).
3. ``loc_on_image_labels`` (Table 3g): whether whole-image boxes train box
   regression (``loc_valid``); off, the RoI head skips their positives'
   regression and a batch made only of image-label images has no RPN box
   loss.

The teacher is built on the first training step (inference never builds or
runs it; its CLIP is rebuilt from its checkpoint and never saved). Test-time
behaviour is the base detector's.
"""
from __future__ import annotations

import torch
from mmdet.models.detectors import DINO, TwoStageDetector
from mmdet.registry import MODELS
from torch import Tensor, nn

from ...vlm.vocabulary import load_class_embeddings

#: Eq. 7 threshold on the teacher's top-class probability. The paper gives
#: no value; 0.5 keeps a label only when the teacher puts most of its mass on
#: one class.
HARD_LABEL_THRESHOLD = 0.5


class RichSemMixin:
    """Teacher, soft targets and loss switches (see module doc); mix in
    before an mmdet detector whose head holds ``semantic_branch``."""

    def _init_richsem(self, teacher: dict | None, hard_label_threshold: float,
                      loc_on_image_labels: bool,
                      data_preprocessor: dict | None) -> None:
        dp = dict(data_preprocessor or {})
        self._teacher_cfg = None
        if teacher is not None:
            self._teacher_cfg = dict(
                teacher, type=teacher.get('type', 'CLIPSoftLabelTeacher'))
            for key, default in (('mean', (0., 0., 0.)),
                                 ('std', (1., 1., 1.))):
                self._teacher_cfg.setdefault(f'detector_{key}',
                                             tuple(dp.get(key, default)))
            self._teacher_cfg.setdefault('detector_rgb',
                                         bool(dp.get('bgr_to_rgb', False)))
        self.hard_label_threshold = float(hard_label_threshold)
        self.loc_on_image_labels = bool(loc_on_image_labels)
        self.teacher = None
        branch = self.semantic_branch
        if branch is not None:
            if self._teacher_cfg is None:
                raise ValueError('a semantic branch needs a teacher: set '
                                 'model.teacher')
            names = load_class_embeddings(self._teacher_cfg['vocabulary'])[1]
            if len(names) != branch.num_classes or \
                    names != branch.contrast.class_names:
                vocab = self._teacher_cfg['vocabulary']
                raise ValueError(
                    f"the teacher's vocabulary {vocab}"
                    f' ({len(names)} classes) and the semantic branch '
                    f'({branch.num_classes}, '
                    f'{branch.contrast.vocabulary_path}) differ; use one file')

    @property
    def semantic_branch(self) -> nn.Module | None:
        """The head's semantic branch (None: no ``L_soft``)."""
        raise NotImplementedError

    def build_teacher(self, device: torch.device) -> nn.Module:
        """The teacher, built on first use (never at inference)."""
        if self.teacher is None:
            self.teacher = MODELS.build(self._teacher_cfg).to(device)
            branch = self.semantic_branch
            if branch is not None and branch.logit_scale is None:
                branch.logit_scale = self.teacher.logit_scale
        return self.teacher

    def attach_soft_targets(self, inputs: Tensor, data_samples) -> dict:
        """Fill ``soft_logits``, ``cls_valid``, ``loc_valid`` (and Eq. 7
        labels) in every sample's ``gt_instances``; returns log values."""
        gts = [s.gt_instances for s in data_samples]
        logits = None
        needs_teacher = self.semantic_branch is not None or any(
            (g.labels < 0).any() for g in gts)
        if needs_teacher:
            if self._teacher_cfg is None:
                raise ValueError('image-label ground truth without a label '
                                 '(-1) needs the CLIP teacher (Eq. 7): set '
                                 'model.teacher')
            teacher = self.build_teacher(inputs.device)
            boxes = [g.bboxes.tensor if hasattr(g.bboxes, 'tensor')
                     else g.bboxes for g in gts]
            logits = teacher(inputs, boxes).split([len(g) for g in gts])
        num_unlabeled = num_hard = 0
        for i, (s, g) in enumerate(zip(data_samples, gts)):
            n, dev = len(g), g.labels.device
            cls_valid = torch.ones(n, dtype=torch.bool, device=dev)
            loc_valid = torch.ones(n, dtype=torch.bool, device=dev)
            if s.metainfo.get('image_label', False):
                loc_valid[:] = self.loc_on_image_labels
            missing = g.labels < 0
            if missing.any():
                conf, top = logits[i][missing].softmax(-1).max(-1)
                labels = g.labels.clone()
                labels[missing] = top.to(labels.dtype)
                g.labels = labels
                cls_valid[missing] = conf > self.hard_label_threshold
                num_unlabeled += int(missing.sum())
                num_hard += int(cls_valid[missing].sum())
            if logits is not None:
                g.soft_logits = logits[i]
            g.cls_valid = cls_valid
            g.loc_valid = loc_valid
        out = {}
        if num_unlabeled:
            out['eq7_hard_label_rate'] = torch.tensor(
                num_hard / num_unlabeled, device=inputs.device)
        return out

    def only_image_labels(self, data_samples) -> bool:
        """Every sample of the batch is an image-label one."""
        return all(s.metainfo.get('image_label', False) for s in data_samples)


@MODELS.register_module()
class RichSemFasterRCNN(RichSemMixin, TwoStageDetector):
    """Faster R-CNN (any ``TwoStageDetector`` layout) trained with RichSem.

    Args:
        teacher: ``CLIPSoftLabelTeacher`` config (None: no soft labels, e.g.
            the hard-label-only ablation).
        hard_label_threshold: Eq. 7 threshold.
        loc_on_image_labels: ``L_loc`` on whole-image boxes (Table 3g).
        Others: as mmdet's ``TwoStageDetector``; ``roi_head`` a
        ``RichSemRoIHead``.
    """

    def __init__(self, *args, teacher: dict | None = None,
                 hard_label_threshold: float = HARD_LABEL_THRESHOLD,
                 loc_on_image_labels: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._init_richsem(teacher, hard_label_threshold, loc_on_image_labels,
                           kwargs.get('data_preprocessor'))

    @property
    def semantic_branch(self) -> nn.Module | None:
        return getattr(self.roi_head, 'semantic_branch', None)

    def loss(self, batch_inputs: Tensor, batch_data_samples) -> dict:
        logs = self.attach_soft_targets(batch_inputs, batch_data_samples)
        losses = super().loss(batch_inputs, batch_data_samples)
        if not self.loc_on_image_labels and \
                self.only_image_labels(batch_data_samples):
            for key in [k for k in losses if k.startswith('loss_rpn_bbox')]:
                value = losses[key]
                losses[key] = ([v * 0 for v in value]
                               if isinstance(value, list) else value * 0)
        losses.update(logs)
        return losses


@MODELS.register_module()
class RichSemDINO(RichSemMixin, DINO):
    """DINO trained with RichSem (paper's main detector, Table 1); the head
    a ``RichSemDINOHead``. Arguments as :class:`RichSemFasterRCNN`."""

    def __init__(self, *args, teacher: dict | None = None,
                 hard_label_threshold: float = HARD_LABEL_THRESHOLD,
                 loc_on_image_labels: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._init_richsem(teacher, hard_label_threshold, loc_on_image_labels,
                           kwargs.get('data_preprocessor'))

    @property
    def semantic_branch(self) -> nn.Module | None:
        return getattr(self.bbox_head, 'semantic_branch', None)

    def loss(self, batch_inputs: Tensor, batch_data_samples) -> dict:
        logs = self.attach_soft_targets(batch_inputs, batch_data_samples)
        losses = super().loss(batch_inputs, batch_data_samples)
        losses.update(logs)
        return losses
