"""DINO head with RichSem's semantic branch (Sec. 3.2, Eq. 4; Table 1).

Training: mmdet's ``DINOHead`` losses plus ``L_soft`` on the last decoder
layer's states ``O`` of the queries matched to ground truth: the Hungarian
matching queries (the same assigner as the head's loss) and, as the official
code does where the paper is silent, the positive denoising queries (each
is the noised copy of a known ground truth). The target of a query is the
teacher's ``soft_logits`` of its ground truth; Eq. 4 averages over them.

Per-ground-truth loss switches (``gt_instances.cls_valid`` /
``loc_valid``, see :mod:`ovd_ext.models.detectors.richsem`) apply per image
here: an image any of whose ground truth has no hard label gets no
classification weight on its matched queries, and likewise for box losses
(image-label images hold only whole-image boxes, so their ground truth
share the switches).

Inference is ``DINOHead``'s: the branch is not run.
"""
from __future__ import annotations

import torch
from mmdet.models.dense_heads import DINOHead
from mmdet.registry import MODELS
from mmdet.structures.bbox import bbox_cxcywh_to_xyxy
from mmengine.structures import InstanceData
from torch import Tensor


@MODELS.register_module()
class RichSemDINOHead(DINOHead):
    """``DINOHead`` + ``semantic_branch`` (a ``SemanticBranch`` config with
    ``in_channels`` = the decoder width, e.g. 256); ``semantic_dn``: also on
    the positive denoising queries (official; default True)."""

    def __init__(self, *args, semantic_branch: dict | None = None,
                 semantic_dn: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.semantic_branch = (MODELS.build(semantic_branch)
                                if semantic_branch is not None else None)
        self.semantic_dn = bool(semantic_dn)

    def loss(self, hidden_states: Tensor, references: list[Tensor],
             enc_outputs_class: Tensor, enc_outputs_coord: Tensor,
             batch_data_samples, dn_meta: dict) -> dict:
        gts = [s.gt_instances for s in batch_data_samples]
        metas = [s.metainfo for s in batch_data_samples]
        outs = self(hidden_states, references)
        losses = self.loss_by_feat(*outs, enc_outputs_class,
                                   enc_outputs_coord, gts, metas, dn_meta)
        if self.semantic_branch is not None:
            losses['loss_soft'] = self.semantic_loss(
                hidden_states[-1], outs[0][-1], outs[1][-1], gts, metas,
                dn_meta)
        return losses

    def matched_queries(self, cls_scores: Tensor, bbox_preds: Tensor,
                        gt: InstanceData, meta: dict) -> tuple[Tensor, Tensor]:
        """``(query indices, ground-truth indices)`` of the Hungarian match
        of one image's matching queries (as ``DETRHead``'s targets)."""
        img_h, img_w = meta['img_shape']
        factor = bbox_preds.new_tensor([img_w, img_h, img_w, img_h])
        pred = InstanceData(scores=cls_scores,
                            bboxes=bbox_cxcywh_to_xyxy(bbox_preds) * factor)
        assign = self.assigner.assign(pred_instances=pred, gt_instances=gt,
                                      img_meta=meta)
        pos = torch.nonzero(assign.gt_inds > 0).squeeze(-1).unique()
        return pos, assign.gt_inds[pos] - 1

    @staticmethod
    def denoising_queries(num_gts: int, dn_meta: dict,
                          device) -> tuple[Tensor, Tensor]:
        """``(query indices, ground-truth indices)`` of the positive
        denoising queries (mmdet's ``CdnQueryGenerator`` layout: per group
        the positives first, then the negatives)."""
        groups = dn_meta['num_denoising_groups']
        per_group = dn_meta['num_denoising_queries'] // groups
        t = torch.arange(num_gts, device=device)
        queries = (torch.arange(groups, device=device)[:, None] * per_group
                   + t[None]).flatten()
        return queries, t.repeat(groups)

    def semantic_loss(self, states: Tensor, cls_scores: Tensor,
                      bbox_preds: Tensor, gts: list[InstanceData],
                      metas: list[dict], dn_meta: dict | None) -> Tensor:
        """``lambda_soft * L_soft`` over matched (and denoising) queries of
        the last decoder layer."""
        num_dn = dn_meta['num_denoising_queries'] if dn_meta else 0
        feats, targets = [], []
        for i, (gt, meta) in enumerate(zip(gts, metas)):
            if 'soft_logits' not in gt:
                raise KeyError('ground truth without soft_logits: the '
                               'detector must run its CLIP teacher first '
                               '(RichSemDINO)')
            q, g = self.matched_queries(cls_scores[i, num_dn:],
                                        bbox_preds[i, num_dn:], gt, meta)
            feats.append(states[i, num_dn:][q])
            targets.append(gt.soft_logits[g])
            if self.semantic_dn and num_dn and len(gt):
                q, g = self.denoising_queries(len(gt), dn_meta,
                                              states.device)
                feats.append(states[i, :num_dn][q])
                targets.append(gt.soft_logits[g])
        return self.semantic_branch.loss(torch.cat(feats), torch.cat(targets))

    def _switch(self, out: tuple, gt: InstanceData) -> tuple:
        """Zero the positives' label / box weights of an image whose ground
        truth lacks a hard label / location (see module doc)."""
        labels, label_w, bbox_t, bbox_w, pos, neg = out
        if 'cls_valid' in gt and not bool(gt.cls_valid.all()):
            label_w = label_w.clone()
            label_w[pos] = 0
        if 'loc_valid' in gt and not bool(gt.loc_valid.all()):
            bbox_w = bbox_w.clone()
            bbox_w[pos] = 0
        return labels, label_w, bbox_t, bbox_w, pos, neg

    def _get_targets_single(self, cls_score: Tensor, bbox_pred: Tensor,
                            gt_instances: InstanceData, img_meta: dict):
        return self._switch(super()._get_targets_single(
            cls_score, bbox_pred, gt_instances, img_meta), gt_instances)

    def _get_dn_targets_single(self, gt_instances: InstanceData,
                               img_meta: dict, dn_meta: dict):
        return self._switch(super()._get_dn_targets_single(
            gt_instances, img_meta, dn_meta), gt_instances)
