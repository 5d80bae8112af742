"""DITO detector (Kim et al., Sec. 3.1, 3.3, 3.4): a windowed / shifted-window
CLIP ViT with SimpleFPN under mmdet's Faster / Mask R-CNN, plus the VLM path.

* VLM score (Sec. 3.1): RoIAlign on the last ViT map (after the 1x1 conv
  projection when distillation is on, Sec. 3.4: "At inference, the ViT
  backbone features after the projection are used to compute the region VLM
  score"), then the CLIP tower's own ``ln_post`` + ``proj``
  (:func:`~ovd_ext.vlm.dense.vit_region_head`); the RoI head ensembles it
  with the detection score (:class:`~ovd_ext.models.roi_heads.DITORoIHead`).
* Frozen-backbone distillation (Sec. 3.4, ``distill=dict(loss_weight=1.)``,
  gamma = 1): a frozen copy of the backbone as built from the CLIP
  checkpoint (same window layout), a 1x1 conv projection (identity at
  initialisation, so the loss starts at 0) on the finetuned map, and
  ``gamma * mean_RoIs (1 - cos(e_finetuned, e_frozen))`` over the RoIs the
  RoI head samples, both embeddings from the same region head. The frozen
  copy runs only in training, under ``no_grad``, and is never saved
  (rebuilt from the CLIP checkpoint); at test it is not run (unless
  ``vlm_source='frozen'``).

Official-code options: ``vlm_roi_scale=0.7`` (VLM RoIs shrunk about their
centre), ``vlm_source='frozen'`` (VLM score from the frozen copy's map);
defaults are the paper's (1.0, the finetuned projected map).
"""
from __future__ import annotations

import copy
from functools import partial

import torch
from mmcv.ops import RoIAlign
from mmdet.models.detectors import TwoStageDetector
from mmdet.registry import MODELS
from torch import nn

from ...utils.rebuilt_weights import RebuiltWeightsMixin
from ...vlm.crops import scale_boxes
from ...vlm.dense import vit_region_head
from ..backbones.windowed_clip_vit import WindowedCLIPViT

VLM_SOURCES = ('finetuned', 'frozen')


class DITOFeatures(tuple):
    """The FPN levels (what mmdet's heads index) plus the VLM path:
    ``vlm_embed(rois) -> [K, D]`` unit rows and, in training with
    distillation, ``distill_loss(rois) -> scalar``."""
    vlm_embed = None
    distill_loss = None


@MODELS.register_module()
class DITO(RebuiltWeightsMixin, TwoStageDetector):
    """Faster / Mask R-CNN on a :class:`WindowedCLIPViT` with DITO's VLM
    path (see module doc).

    Args:
        backbone: a ``WindowedCLIPViT`` config.
        neck, rpn_head, roi_head, train_cfg, test_cfg: as mmdet's
            ``TwoStageDetector`` (``roi_head`` a ``DITORoIHead``).
        distill: None (no distillation) or ``dict(loss_weight=1.0)``.
        vlm_roi_size: RoIAlign grid of the VLM / distillation embeddings.
        vlm_roi_scale: VLM RoIs scaled about their centres (official 0.7).
        vlm_source: ``'finetuned'`` (paper) or ``'frozen'`` (official; needs
            ``distill``).
    """

    def __init__(self, backbone: dict, rpn_head: dict, roi_head: dict,
                 train_cfg: dict, test_cfg: dict, neck: dict,
                 distill: dict | None = None, vlm_roi_size: int = 7,
                 vlm_roi_scale: float = 1.0, vlm_source: str = 'finetuned',
                 data_preprocessor: dict | None = None,
                 init_cfg: dict | None = None) -> None:
        super().__init__(backbone=backbone, neck=neck, rpn_head=rpn_head,
                         roi_head=roi_head, train_cfg=train_cfg,
                         test_cfg=test_cfg,
                         data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        if not isinstance(self.backbone, WindowedCLIPViT):
            raise TypeError('DITO needs a WindowedCLIPViT backbone, got '
                            f'{type(self.backbone).__name__}')
        if vlm_source not in VLM_SOURCES:
            raise ValueError(f'vlm_source must be one of {VLM_SOURCES}')
        if vlm_source == 'frozen' and not distill:
            raise ValueError("vlm_source='frozen' needs distill=dict(...) "
                             '(the frozen backbone copy)')
        if getattr(self.roi_head, 'vlm_temperature', 0.0) is None:
            self.roi_head.vlm_temperature = 1.0 / self.backbone.logit_scale
        width = self.backbone.out_channels
        self.distill_weight = float((distill or {}).get('loss_weight', 1.0))
        self.vlm_source = vlm_source
        self.vlm_roi_scale = vlm_roi_scale
        self.vlm_roi = RoIAlign((vlm_roi_size, vlm_roi_size),
                                spatial_scale=1.0 / self.backbone.patch_size,
                                sampling_ratio=0, pool_mode='avg',
                                aligned=True)
        self.vlm_proj = self.frozen_backbone = None
        if distill:
            self.vlm_proj = nn.Conv2d(width, width, 1)
            with torch.no_grad():
                self.vlm_proj.weight.copy_(
                    torch.eye(width)[:, :, None, None])
                self.vlm_proj.bias.zero_()
            self.frozen_backbone = copy.deepcopy(self.backbone)
            self.frozen_backbone.requires_grad_(False)
            self.frozen_backbone.eval()

    def rebuilt_keys(self, prefix: str, keys) -> set[str]:
        """The frozen backbone copy is rebuilt from the CLIP checkpoint."""
        return {k for k in keys if k.startswith(prefix + 'frozen_backbone.')}

    def train(self, mode: bool = True) -> 'DITO':
        super().train(mode)
        if self.frozen_backbone is not None:
            self.frozen_backbone.eval()
        return self

    def _embed(self, visual, fmap: torch.Tensor, rois: torch.Tensor,
               scale: float = 1.0) -> torch.Tensor:
        rois = rois.float()
        if scale != 1.0:
            stride = self.backbone.patch_size
            input_hw = (fmap.shape[2] * stride, fmap.shape[3] * stride)
            rois = torch.cat([rois[:, :1],
                              scale_boxes(rois[:, 1:], scale, input_hw)], 1)
        feats = self.vlm_roi(fmap.float().contiguous(), rois)
        return vit_region_head(visual, feats)

    def _distill_loss(self, fmap: torch.Tensor, frozen_map: torch.Tensor,
                      rois: torch.Tensor) -> torch.Tensor:
        """Sec. 3.4: gamma * mean over RoIs of the cosine distance."""
        student = self._embed(self.backbone.visual, fmap, rois)
        with torch.no_grad():
            teacher = self._embed(self.frozen_backbone.visual, frozen_map,
                                  rois)
        cos = (student * teacher).sum(dim=-1)
        return self.distill_weight * (1 - cos).mean()

    def extract_feat(self, batch_inputs: torch.Tensor) -> DITOFeatures:
        """FPN levels from the ViT map, with the VLM path attached."""
        (vit_map, ) = self.backbone(batch_inputs)
        feats = DITOFeatures(self.neck((vit_map, )))
        proj = self.vlm_proj(vit_map) if self.vlm_proj is not None \
            else vit_map
        frozen_map = None
        if self.frozen_backbone is not None and (
                self.training or self.vlm_source == 'frozen'):
            with torch.no_grad():
                (frozen_map, ) = self.frozen_backbone(batch_inputs)
        if self.vlm_source == 'frozen':
            feats.vlm_embed = partial(self._embed,
                                      self.frozen_backbone.visual,
                                      frozen_map, scale=self.vlm_roi_scale)
        else:
            feats.vlm_embed = partial(self._embed, self.backbone.visual,
                                      proj, scale=self.vlm_roi_scale)
        if self.training and frozen_map is not None:
            feats.distill_loss = partial(self._distill_loss, proj,
                                         frozen_map)
        return feats
