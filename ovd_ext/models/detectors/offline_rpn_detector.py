"""Fast R-CNN whose proposals come from a frozen, separately trained RPN.

RegionCLIP transfers its pretrained encoder with "RPN ... trained by the base
categories of target dataset" (Sec. 4 (implementation details)); the official
code holds that RPN as an offline detectron2 R50-FPN next to the CLIP C4
detector, frozen. Here it is an mmdet ``RPN`` detector under ``offline_rpn``
(keys ``offline_rpn.backbone.*``, ``offline_rpn.neck.*``,
``offline_rpn.bbox_head.*``: mmdet's RPN calls its head ``bbox_head``), loaded
from ``offline_rpn_checkpoint`` (an RPN checkpoint, or a two-stage detector's
``backbone`` / ``neck`` / ``rpn_head`` keys) and always in eval mode.

The RPN has its own input normalisation (its ``data_preprocessor``: e.g.
detectron2 BGR vs CLIP RGB): the detector's normalised batch is mapped back to
pixels and normalised again for it (:meth:`rpn_inputs`), so one data pipeline
feeds both.
"""
from __future__ import annotations

import torch
from mmdet.models.detectors import RPN, TwoStageDetector
from mmdet.registry import MODELS
from mmdet.structures import SampleList
from mmengine.config import ConfigDict
from mmengine.structures import InstanceData
from torch import Tensor

from ...vlm.image_weights import read_state_dict


def load_rpn_weights(rpn: RPN, path: str) -> None:
    """Load an RPN from ``path``: an RPN checkpoint (``bbox_head.*``) or a
    two-stage detector's (``rpn_head.*``; its ``roi_head`` is ignored).
    Strict: a missing key or a shape mismatch names the file and key."""
    src = {}
    for k, v in read_state_dict(path).items():
        if k.startswith('rpn_head.'):
            k = 'bbox_head.' + k[len('rpn_head.'):]
        if k.startswith(('backbone.', 'neck.', 'bbox_head.')):
            src[k] = v
    own = rpn.state_dict()
    missing = [k for k in own if k not in src]
    if missing:
        raise KeyError(f'{path} lacks offline RPN weights: {missing[:5]} '
                       f'({len(missing)} missing)')
    for k, v in own.items():
        if src[k].shape != v.shape:
            raise ValueError(f'{path}: {k} has shape {tuple(src[k].shape)}, '
                             f'the offline RPN expects {tuple(v.shape)}')
    rpn.load_state_dict({k: src[k].to(v.dtype) for k, v in own.items()})


@MODELS.register_module()
class OfflineRPNDetector(TwoStageDetector):
    """Two-stage detector with a frozen offline RPN.

    Args:
        offline_rpn: an mmdet ``RPN`` detector config (``data_preprocessor``,
            ``backbone``, ``neck``, ``rpn_head``); its ``test_cfg`` is
            ignored, see ``proposal_cfg``.
        offline_rpn_checkpoint: file with the RPN's weights (its
            ``backbone.*`` / ``neck.*`` / ``rpn_head.*`` keys; a two-stage
            detector's ``roi_head.*`` keys are ignored). None: the detector
            checkpoint brings them (testing) or random (unit tests).
        proposal_cfg: ``dict(train=..., test=...)`` RPN post-processing
            (``nms_pre``, ``max_per_img``, ``nms``, ``min_bbox_size``) for
            training and testing proposals.
        backbone, neck, roi_head, train_cfg, test_cfg, data_preprocessor,
        init_cfg: as mmdet's ``TwoStageDetector`` (``train_cfg`` /
            ``test_cfg`` hold ``rcnn`` only).
    """

    def __init__(self, backbone: dict, roi_head: dict, offline_rpn: dict,
                 proposal_cfg: dict, offline_rpn_checkpoint: str | None = None,
                 neck: dict | None = None, train_cfg: dict | None = None,
                 test_cfg: dict | None = None,
                 data_preprocessor: dict | None = None,
                 init_cfg: dict | None = None) -> None:
        super().__init__(backbone=backbone, neck=neck, rpn_head=None,
                         roi_head=roi_head, train_cfg=train_cfg,
                         test_cfg=test_cfg,
                         data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        rpn = MODELS.build(offline_rpn)
        if not isinstance(rpn, RPN):
            raise TypeError(f'offline_rpn must be an mmdet RPN detector, got '
                            f'{type(rpn).__name__}')
        if offline_rpn_checkpoint is not None:
            load_rpn_weights(rpn, offline_rpn_checkpoint)
        for p in rpn.parameters():
            p.requires_grad_(False)
        self.offline_rpn = rpn.eval()
        self.proposal_cfg = {k: ConfigDict(v) for k, v in proposal_cfg.items()}
        for k in ('train', 'test'):
            if k not in self.proposal_cfg:
                raise KeyError(f'proposal_cfg needs a {k!r} entry')

    def init_weights(self) -> None:
        """Initialise everything but the offline RPN (loaded weights)."""
        for name, child in self.named_children():
            if name != 'offline_rpn' and hasattr(child, 'init_weights'):
                child.init_weights()
        self._is_init = True

    def train(self, mode: bool = True) -> 'OfflineRPNDetector':
        super().train(mode)
        self.offline_rpn.eval()
        return self

    def rpn_inputs(self, inputs: Tensor) -> Tensor:
        """The batch normalised for the offline RPN instead of for the
        detector (both preprocessors' mean / std / channel order)."""
        main, rpn = self.data_preprocessor, self.offline_rpn.data_preprocessor
        x = inputs.float()
        if getattr(main, '_enable_normalize', False):
            x = x * main.std + main.mean
        if bool(getattr(main, '_channel_conversion', False)) != bool(
                getattr(rpn, '_channel_conversion', False)):
            x = x[:, [2, 1, 0]]
        if getattr(rpn, '_enable_normalize', False):
            x = (x - rpn.mean) / rpn.std
        return x

    @torch.no_grad()
    def propose(self, inputs: Tensor, data_samples: SampleList,
                mode: str) -> list[InstanceData]:
        """Offline-RPN proposals (``bboxes`` in input pixels, ``scores`` =
        sigmoid objectness after NMS) with ``proposal_cfg[mode]``."""
        rpn = self.offline_rpn
        feats = rpn.extract_feat(self.rpn_inputs(inputs))
        cls_scores, bbox_preds = rpn.bbox_head(feats)
        metas = [s.metainfo for s in data_samples]
        return rpn.bbox_head.predict_by_feat(
            cls_scores, bbox_preds, batch_img_metas=metas,
            cfg=self.proposal_cfg[mode], rescale=False)

    def loss(self, batch_inputs: Tensor,
             batch_data_samples: SampleList) -> dict:
        """RoI-head losses on the offline proposals (no RPN loss)."""
        proposals = self.propose(batch_inputs, batch_data_samples, 'train')
        x = self.extract_feat(batch_inputs)
        return self.roi_head.loss(x, proposals, batch_data_samples)

    def predict(self, batch_inputs: Tensor, batch_data_samples: SampleList,
                rescale: bool = True) -> SampleList:
        proposals = self.propose(batch_inputs, batch_data_samples, 'test')
        x = self.extract_feat(batch_inputs)
        results = self.roi_head.predict(x, proposals, batch_data_samples,
                                        rescale=rescale)
        return self.add_pred_to_datasample(batch_data_samples, results)

    def _forward(self, batch_inputs: Tensor,
                 batch_data_samples: SampleList) -> tuple:
        proposals = self.propose(batch_inputs, batch_data_samples, 'test')
        x = self.extract_feat(batch_inputs)
        return self.roi_head.forward(x, proposals, batch_data_samples)
