"""STAC's student (Sohn et al. 2020, the SSOD baseline of VL-PLM Sec. 4.2):
a two-stage detector trained on labeled images with their ground truth and
on strongly augmented unlabeled images with offline pseudo labels,

    L = L_s + lambda_u * L_u                                   (STAC Eq. 1)

where L_s and L_u are the full Faster R-CNN losses (RPN and RoI head,
classification and box regression) on the labeled images and on the
pseudo-labelled ones, and lambda_u = 2 (STAC's default, its official
``TRAIN.WU=2``). The pseudo labels are fixed: a teacher trained on the
labeled images produced them once (``tools/gen_pseudo_labels.py``), so the
student needs no online teacher; VL-PLM's "STAC + VL-PLM" only swaps that
file for VL-PLM's fused pseudo labels.

Batches hold both kinds of images, split by branch with mmdet's
semi-supervised data path: the labeled pipeline ends in
``MultiBranch(sup=PackDetInputs)``, the unlabeled one in
``MultiBranch(unsup=[strong augmentation..., PackDetInputs])``, a
``MultiBranchDataPreprocessor`` groups the branches and a
``GroupMultiSourceSampler`` fixes how many of each a batch holds (STAC: one
labeled and one unlabeled image per GPU). STAC averages its two forward
passes ((L_s + lambda_u L_u) / 2); we add them, as mmdet's semi-supervised
detectors do (``sup_weight`` / ``unsup_weight``): the factor 1/2 is a
learning-rate scale.

The detector is an ordinary ``TwoStageDetector`` otherwise: its state dict
is a Faster R-CNN's (no teacher copy), ``predict`` is unchanged and plain
(single-branch) batches train it with ``L_s`` alone.
"""
from __future__ import annotations

from mmdet.models.detectors import TwoStageDetector
from mmdet.models.utils import rename_loss_dict, reweight_loss_dict
from mmdet.registry import MODELS
from torch import Tensor

#: MultiBranch branch names: labeled (ground truth) and pseudo-labelled
SUP, UNSUP = 'sup', 'unsup'


@MODELS.register_module()
class STAC(TwoStageDetector):
    """Two-stage detector with STAC's supervised + unsupervised loss.

    Args:
        sup_weight: weight of ``L_s`` (1).
        unsup_weight: ``lambda_u``, weight of ``L_u`` (STAC: 2).
        **kwargs: ``TwoStageDetector`` arguments (a Faster R-CNN's).
    """

    def __init__(self, *args, sup_weight: float = 1.0,
                 unsup_weight: float = 2.0, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if sup_weight < 0 or unsup_weight < 0:
            raise ValueError('STAC: loss weights must be >= 0, got '
                             f'sup_weight={sup_weight}, '
                             f'unsup_weight={unsup_weight}')
        self.sup_weight = float(sup_weight)
        self.unsup_weight = float(unsup_weight)

    def loss(self, batch_inputs: Tensor | dict,
             batch_data_samples: list | dict) -> dict:
        """``L_s`` (keys as a Faster R-CNN's) + ``lambda_u L_u`` (keys
        prefixed ``unsup_``) of a multi-branch batch; a plain batch is
        labeled data only."""
        if not isinstance(batch_inputs, dict):
            return reweight_loss_dict(
                super().loss(batch_inputs, batch_data_samples),
                self.sup_weight)
        unknown = sorted(set(batch_inputs) - {SUP, UNSUP})
        if unknown:
            raise KeyError(f'STAC: unknown branch(es) {unknown}; the '
                           f"pipelines' MultiBranch must use branch_field="
                           f"['{SUP}', '{UNSUP}']")
        losses: dict = {}
        if batch_inputs.get(SUP) is not None:
            losses.update(reweight_loss_dict(
                super().loss(batch_inputs[SUP], batch_data_samples[SUP]),
                self.sup_weight))
        if batch_inputs.get(UNSUP) is not None:
            unsup = super().loss(batch_inputs[UNSUP],
                                 batch_data_samples[UNSUP])
            losses.update(rename_loss_dict(
                'unsup_', reweight_loss_dict(unsup, self.unsup_weight)))
        if not losses:
            raise ValueError('STAC: the batch has neither a labeled nor an '
                             'unlabeled image')
        return losses
