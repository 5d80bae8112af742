"""Faster R-CNN RoI head with RichSem's semantic branch (Sec. 3.2-3.3).

Training: mmdet's ``StandardRoIHead`` losses plus ``L_soft`` (Eq. 4) on the
positive RoIs: the semantic branch (``H_soft`` on the RoI features ``O``, its
own FCs) against the teacher's soft target ``s^t`` of each RoI's matched
ground truth (``gt_instances.soft_logits``, set by the detector's teacher).
Image-label ground truth (the whole-image box, Sec. 3.3) can carry no hard
label (Eq. 7 below threshold: ``gt_instances.cls_valid`` False: its positive
RoIs get no ``L_cls``) or no location loss (``gt_instances.loc_valid``
False, Table 3g without ``L_loc``: no box regression on its positives).

Inference is ``StandardRoIHead``'s: the branch is not run.
"""
from __future__ import annotations

import torch
from mmdet.models.roi_heads import StandardRoIHead
from mmdet.models.task_modules.samplers import SamplingResult
from mmdet.registry import MODELS
from mmdet.structures.bbox import bbox2roi
from torch import Tensor


@MODELS.register_module()
class RichSemRoIHead(StandardRoIHead):
    """``StandardRoIHead`` + ``semantic_branch`` (a ``SemanticBranch``
    config whose ``in_channels`` is the flattened RoI feature size, e.g.
    ``256 * 7 * 7``); None trains the plain head."""

    def __init__(self, *args, semantic_branch: dict | None = None,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.semantic_branch = (MODELS.build(semantic_branch)
                                if semantic_branch is not None else None)
        self._gt_instances = None

    def loss(self, x, rpn_results_list, batch_data_samples) -> dict:
        """mmdet's loss with the batch's ground truth at hand for the
        soft targets and per-ground-truth loss switches."""
        self._gt_instances = [s.gt_instances for s in batch_data_samples]
        try:
            return super().loss(x, rpn_results_list, batch_data_samples)
        finally:
            self._gt_instances = None

    def _gt_field(self, res: SamplingResult, img: int, name: str):
        gt = self._gt_instances[img] if self._gt_instances else None
        if gt is None or name not in gt:
            return None
        return gt.get(name)[res.pos_assigned_gt_inds]

    def _switch_weights(self, sampling_results, targets) -> tuple:
        """Zero ``label_weights`` / ``bbox_weights`` of positives whose
        ground truth has ``cls_valid`` / ``loc_valid`` False."""
        labels, label_w, bbox_t, bbox_w = targets
        label_w, bbox_w = label_w.clone(), bbox_w.clone()
        start = 0
        for i, res in enumerate(sampling_results):
            pos = torch.arange(start, start + len(res.pos_inds),
                               device=label_w.device)
            cls_ok = self._gt_field(res, i, 'cls_valid')
            if cls_ok is not None:
                label_w[pos[~cls_ok.bool()]] = 0
            loc_ok = self._gt_field(res, i, 'loc_valid')
            if loc_ok is not None:
                bbox_w[pos[~loc_ok.bool()]] = 0
            start += len(res.priors)
        return labels, label_w, bbox_t, bbox_w

    def semantic_loss(self, bbox_feats: Tensor,
                      sampling_results: list[SamplingResult]) -> Tensor:
        """``lambda_soft * L_soft`` over the positive RoIs (Eq. 4: mean over
        the N matched proposals). The positives are gathered in one index
        (per-image slices would each add a gradient the size of all RoI
        features in backward)."""
        index, targets, start = [], [], 0
        for i, res in enumerate(sampling_results):
            soft = self._gt_field(res, i, 'soft_logits')
            if soft is None:
                raise KeyError('ground truth without soft_logits: the '
                               'detector must run its CLIP teacher first '
                               '(RichSemFasterRCNN)')
            index.append(torch.arange(start, start + len(res.pos_inds),
                                      device=bbox_feats.device))
            targets.append(soft)
            start += len(res.priors)
        return self.semantic_branch.loss(bbox_feats[torch.cat(index)],
                                         torch.cat(targets))

    def bbox_loss(self, x: tuple[Tensor],
                  sampling_results: list[SamplingResult]) -> dict:
        rois = bbox2roi([res.priors for res in sampling_results])
        bbox_results = self._bbox_forward(x, rois)
        targets = self._switch_weights(
            sampling_results,
            self.bbox_head.get_targets(sampling_results, self.train_cfg))
        loss_bbox = self.bbox_head.loss(bbox_results['cls_score'],
                                        bbox_results['bbox_pred'], rois,
                                        *targets)
        if self.semantic_branch is not None and self.training:
            loss_bbox['loss_soft'] = self.semantic_loss(
                bbox_results['bbox_feats'], sampling_results)
        bbox_results.update(loss_bbox=loss_bbox)
        return bbox_results
