"""DITO region-centric image-text pretraining (REP, Sec. 3.2, Fig. 2 left).

Image and text encoders are frozen; the detector's region-recognition
pathway learns from image-text pairs alone:

1. the frozen :class:`WindowedCLIPViT` map -> SimpleFPN (LN) -> P2..P5;
2. per level i, ``n_i`` random boxes (:mod:`.rep_regions`; 400 / 200 / 100
   / 50) -> that level's RoIAlign -> the Faster R-CNN box head's shared FCs
   and text projection -> RoI embeddings;
3. max-pool over the RoI embeddings of each level -> one image embedding
   per level -> the standard (symmetric InfoNCE) image-text contrastive loss
   with the image's caption, per level, summed with equal weights
   (Table 4c: "multi RoIs, max/lvl");
4. RPN objectness: target ``max(0, cos(RoI embedding, text))`` at each RoI
   centre of the level's map, L1 loss, weight equal to the contrastive
   loss's; no RPN box regression.

The module names (``neck``, ``rpn_head``, ``roi_head.bbox_head``) are the
detector's, so a REP checkpoint initialises a :class:`DITO` detector's heads
with ``load_from`` (the backbone keys are absent: rebuilt from the CLIP
checkpoint, never saved; so is the text tower). The box head is the
detector's ``CLIPBBoxHead`` config; its class vocabulary is not used here
(any file of the CLIP's dimension builds it).

The paper is silent on the contrastive temperature; we learn it as CLIP
does (``logit_scale``, initialised from the CLIP checkpoint's, at most 100).
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from mmdet.registry import MODELS
from mmdet.structures.bbox import bbox2roi
from mmengine.model import BaseModel
from torch import nn

from ...utils.rebuilt_weights import RebuiltWeightsMixin
from ...vlm.text import encode_prompts
from ..losses.region_text import image_text_contrastive
from .rep_regions import (ASPECT_RANGE, NUM_BOXES, SIZE_RANGE, centre_cells,
                          rpn_centre_loss, sample_region_boxes)

#: CLIP's cap on the learned logit scale.
MAX_LOGIT_SCALE = 100.0


def box_head_embeddings(head, roi_feats: torch.Tensor) -> torch.Tensor:
    """RoI features through a CLIP box head up to its classifier
    (``cls_features``) and the classifier's text projection
    (``fc_cls.proj``): ``[K, D]``, not normalised (REP max-pools before
    normalising)."""
    return head.fc_cls.proj(head.cls_features(roi_feats))


@MODELS.register_module()
class RegionCentricPretrainer(RebuiltWeightsMixin, BaseModel):
    """REP (see module doc).

    Args:
        clip: ``OpenCLIP`` config whose frozen text tower embeds captions.
        backbone: ``WindowedCLIPViT`` config (frozen here).
        neck: ``SimpleFPN`` config.
        rpn_head: mmdet ``RPNHead`` config (only ``rpn_conv`` / ``rpn_cls``
            are trained).
        roi_head: ``dict(bbox_roi_extractor=..., bbox_head=...)`` as the
            detector's (SingleRoIExtractor over P2..P5, CLIPBBoxHead).
        num_boxes: n_i per level (P2 first).
        size_range, aspect_range: box sampling (Sec. 3.2).
        loss_weights: ``dict(contrastive=1., rpn=1.)``.
    """

    def __init__(self, clip: dict, backbone: dict, neck: dict,
                 rpn_head: dict, roi_head: dict,
                 num_boxes: Sequence[int] = NUM_BOXES,
                 size_range: Sequence[float] = SIZE_RANGE,
                 aspect_range: Sequence[float] = ASPECT_RANGE,
                 loss_weights: dict | None = None,
                 data_preprocessor: dict | None = None,
                 init_cfg: dict | None = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        clip = dict(clip, type=clip.get('type', 'OpenCLIP'))
        clip.pop('templates', None)
        self.clip = MODELS.build(dict(clip, frozen=True))
        # the backbone holds its own image tower: drop this one's
        self.clip.model.visual = nn.Identity()
        self.backbone = MODELS.build(backbone)
        self.backbone.requires_grad_(False)
        self.neck = MODELS.build(neck)
        self.rpn_head = MODELS.build(rpn_head)
        roi_head = dict(roi_head)
        self.roi_head = nn.Module()
        self.roi_head.bbox_roi_extractor = MODELS.build(
            roi_head.pop('bbox_roi_extractor'))
        self.roi_head.bbox_head = MODELS.build(roi_head.pop('bbox_head'))
        if roi_head:
            raise KeyError(f'unused roi_head keys {sorted(roi_head)}')
        levels = len(self.roi_head.bbox_roi_extractor.roi_layers)
        if len(num_boxes) > levels:
            raise ValueError(f'{len(num_boxes)} box counts but the RoI '
                             f'extractor has {levels} levels')
        self.num_boxes = tuple(int(n) for n in num_boxes)
        self.size_range, self.aspect_range = size_range, aspect_range
        weights = dict(contrastive=1.0, rpn=1.0)
        unknown = set(loss_weights or {}) - set(weights)
        if unknown:
            raise KeyError(f'unknown loss_weights {sorted(unknown)}')
        weights.update(loss_weights or {})
        self.loss_weights = weights
        scale = float(self.clip.model.logit_scale.detach().exp())
        self.logit_scale = nn.Parameter(torch.tensor(
            min(scale, MAX_LOGIT_SCALE)).log())

    def rebuilt_keys(self, prefix: str, keys) -> set[str]:
        """Backbone and CLIP come from the CLIP checkpoint."""
        return {k for k in keys if k.startswith((prefix + 'backbone.',
                                                 prefix + 'clip.'))}

    def init_weights(self) -> None:
        """Heads as mmdet initialises them; backbone / CLIP keep theirs."""
        for m in (self.neck, self.rpn_head, self.roi_head.bbox_head):
            if hasattr(m, 'init_weights'):
                m.init_weights()
        self._is_init = True

    def train(self, mode: bool = True) -> 'RegionCentricPretrainer':
        super().train(mode)
        self.backbone.eval()
        self.clip.eval()
        return self

    def loss(self, inputs: torch.Tensor, data_samples) -> dict:
        """Per-level contrastive and RPN-centre losses (Sec. 3.2)."""
        with torch.no_grad():
            (vit_map, ) = self.backbone(inputs)
            captions = [s.metainfo['caption'] for s in data_samples]
            text = encode_prompts(self.clip, captions).float()
        feats = self.neck((vit_map, ))
        extractor = self.roi_head.bbox_roi_extractor
        shapes = [s.metainfo['img_shape'][:2] for s in data_samples]
        batch = len(data_samples)
        scale = self.logit_scale.exp().clamp(max=MAX_LOGIT_SCALE)
        losses = {}
        for lvl, n in enumerate(self.num_boxes):
            boxes = [sample_region_boxes(n, hw, self.size_range,
                                         self.aspect_range,
                                         device=inputs.device)
                     for hw in shapes]
            rois = bbox2roi(boxes)
            roi_feats = extractor.roi_layers[lvl](feats[lvl].contiguous(),
                                                  rois)
            emb = box_head_embeddings(self.roi_head.bbox_head, roi_feats)
            emb = emb.view(batch, n, -1)
            image = F.normalize(emb.amax(dim=1), dim=-1)
            losses[f'loss_contrastive_p{lvl + 2}'] = \
                self.loss_weights['contrastive'] * image_text_contrastive(
                    image, text, 1.0 / scale, symmetric=True)
            if self.loss_weights['rpn'] > 0:
                target = (F.normalize(emb, dim=-1) * text[:, None]).sum(-1)
                target = target.clamp(min=0).detach().flatten()
                stride = extractor.featmap_strides[lvl]
                rows, cols = centre_cells(torch.cat(boxes), stride,
                                          feats[lvl].shape[-2:])
                objectness = self.rpn_head.rpn_cls(
                    F.relu(self.rpn_head.rpn_conv(feats[lvl])))
                idx = rois[:, 0].long()
                losses[f'loss_rpn_p{lvl + 2}'] = \
                    self.loss_weights['rpn'] * rpn_centre_loss(
                        objectness, idx, rows, cols, target)
        losses['logit_scale'] = scale.detach()
        return losses

    def forward(self, inputs: torch.Tensor, data_samples=None,
                mode: str = 'loss'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        raise RuntimeError(f'RegionCentricPretrainer has no {mode!r} mode: '
                           'it pretrains detector heads; finetune a DITO '
                           'detector from its checkpoint (load_from)')
