"""DITO's RoI head: detection scores ensembled with VLM scores (Eq. 2), and
the frozen-backbone distillation loss on the sampled RoIs (Sec. 3.4).

mmdet's ``StandardRoIHead`` (box + mask branches, sampling, targets) with

* ``predict_bbox``: mmdet decodes the boxes and gives the softmax ``p`` per
  RoI; the VLM probabilities ``z`` of the same RoIs come from the
  detector's VLM embedding (RoIAlign on the last ViT map, Sec. 3.1); the
  scores are ensembled (:func:`~ovd_ext.models.layers.score_ensemble.
  ensemble_scores`) before mmdet's ``multiclass_nms``. Classes the bbox head
  was trained on are base (alpha), every other class of the current
  vocabulary novel (beta), so a swapped vocabulary is handled too;
* ``bbox_loss``: adds ``loss_distill`` computed by the detector on the RoIs
  the sampler drew (positives and negatives).

The detector hands both in through its feature tuple
(:class:`~ovd_ext.models.detectors.dito.DITOFeatures`: ``vlm_embed(rois)``
and ``distill_loss(rois)``); plain feature tuples run this head as mmdet's.
"""
from __future__ import annotations

import torch
from mmdet.models.layers import multiclass_nms
from mmdet.models.roi_heads import StandardRoIHead
from mmdet.registry import MODELS
from mmdet.structures.bbox import bbox2roi
from mmengine.structures import InstanceData

from ..layers.score_ensemble import (ALPHA, BETA, ensemble_scores,
                                     vlm_probabilities)


@MODELS.register_module()
class DITORoIHead(StandardRoIHead):
    """Args (besides ``StandardRoIHead``'s):
        alpha, beta: Eq. 2 weights of the detection score for base / novel
            classes (paper 0.3 / 0.65; official code 0.35 / 0.65).
        vlm_temperature: T of ``z = softmax(cos / T)``. The paper is silent;
            None (default): the CLIP's own learned temperature, 1 / its
            logit scale (0.01 for OpenAI / LAION CLIPs), set by the
            :class:`~ovd_ext.models.detectors.DITO` detector.
        renormalize, rpn_power: official-code options (see
            :mod:`~ovd_ext.models.layers.score_ensemble`).
        ensemble: False gives the detection scores alone (ablations).
    """

    def __init__(self, *args, alpha: float = ALPHA, beta: float = BETA,
                 vlm_temperature: float | None = None,
                 renormalize: bool = False,
                 rpn_power: float = 0.0, ensemble: bool = True,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.alpha, self.beta = alpha, beta
        self.vlm_temperature = vlm_temperature
        self.renormalize, self.rpn_power = renormalize, rpn_power
        self.ensemble = ensemble
        head = self.bbox_head
        excluded = head.train_excluded[:-1].tolist()
        self.base_classes = frozenset(
            n for n, ex in zip(head.class_names, excluded) if not ex)

    def novel_mask(self) -> torch.Tensor:
        """``[C]`` bool: classes of the current vocabulary not trained on."""
        names = self.bbox_head.class_names
        return torch.tensor([n not in self.base_classes for n in names])

    def bbox_loss(self, x, sampling_results) -> dict:
        """mmdet's bbox loss plus ``loss_distill`` (Sec. 3.4) when the
        features carry a distillation target."""
        results = super().bbox_loss(x, sampling_results)
        distill = getattr(x, 'distill_loss', None)
        if distill is not None:
            rois = bbox2roi([res.priors for res in sampling_results])
            results['loss_bbox']['loss_distill'] = distill(rois)
        return results

    def predict_bbox(self, x, batch_img_metas, rpn_results_list,
                     rcnn_test_cfg, rescale: bool = False):
        """Per image: boxes and ``p`` from mmdet, ``z`` from the VLM path,
        Eq. 2, then ``multiclass_nms`` with ``rcnn_test_cfg``."""
        vlm_embed = getattr(x, 'vlm_embed', None)
        if not self.ensemble or vlm_embed is None or rcnn_test_cfg is None:
            return super().predict_bbox(x, batch_img_metas, rpn_results_list,
                                        rcnn_test_cfg, rescale)
        raw = super().predict_bbox(x, batch_img_metas, rpn_results_list,
                                   None, rescale)
        rois = bbox2roi([res.bboxes for res in rpn_results_list])
        novel = self.novel_mask()
        if len(rois):
            if self.vlm_temperature is None:
                raise ValueError('DITORoIHead.vlm_temperature is None: the '
                                 'DITO detector sets it from its CLIP')
            text = self.bbox_head.fc_cls.class_embeddings
            z_all = vlm_probabilities(vlm_embed(rois), text.to(rois.device),
                                      self.vlm_temperature)
            z_list = z_all.split([len(r) for r in rpn_results_list])
        out = []
        for i, res in enumerate(raw):
            if len(rpn_results_list[i]) == 0 or res.scores.numel() == 0:
                out.append(self._empty(rois.device))
                continue
            scores = ensemble_scores(
                res.scores, z_list[i], novel, self.alpha, self.beta,
                self.renormalize, rpn_results_list[i].scores,
                self.rpn_power)
            det, labels = multiclass_nms(
                res.bboxes, scores, rcnn_test_cfg.score_thr,
                rcnn_test_cfg.nms, rcnn_test_cfg.max_per_img, box_dim=4)
            inst = InstanceData()
            inst.bboxes, inst.scores, inst.labels = det[:, :-1], det[:, -1], \
                labels
            out.append(inst)
        return out

    @staticmethod
    def _empty(device) -> InstanceData:
        inst = InstanceData()
        inst.bboxes = torch.zeros(0, 4, device=device)
        inst.scores = torch.zeros(0, device=device)
        inst.labels = torch.zeros(0, dtype=torch.long, device=device)
        return inst
