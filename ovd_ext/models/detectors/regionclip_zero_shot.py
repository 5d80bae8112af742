"""RegionCLIP zero-shot detection (Sec. 3.2 "Zero-shot inference"; Sec. 4,
implementation details).

RPN proposals -> region embeddings of the (pretrained) CLIP image encoder
(RoIAlign on C4, ``layer4`` + attention pool) -> cosine similarity to the
class text embeddings (Eq. 1), softmax at temperature tau (0.01) over the
classes -> fused with the RPN objectness by the geometric mean (Sec. 4,
implementation details: "we fused RPN objectness scores and category
confidence scores by geometry mean"): ``s_c = sqrt(p_c * o)``.

Fusion uses the objectness PROBABILITY ``o = sigmoid(logit)``. The official
code multiplies by the raw RPN logit before the square root, which gives
scores above 1 and NaN for negative logits; the paper says "objectness
scores", and a probability keeps ``s_c`` in [0, 1] and the ranking of the
geometric mean.

NMS: the paper's 0.9 (``test_cfg.rcnn.nms.iou_threshold`` and the proposal
NMS). The official code applies 0.9 to the offline RPN proposals only and
0.5 to the final detections: set ``test_cfg.rcnn.nms.iou_threshold=0.5``.

Ground-truth-box mode (Table 4, ``proposals='gt'``): the annotated boxes of
each image are classified instead of RPN proposals, without fusion or NMS;
every box gets every class with its probability (``gt_index`` tells which
box), which :class:`~ovd_ext.evaluation.RegionClassificationMetric` turns
into region classification accuracy and the box metrics into AP. The test
pipeline must load the annotations before ``Resize`` (boxes in input pixels).
"""
from __future__ import annotations

import torch
from mmdet.models.layers import multiclass_nms
from mmdet.registry import MODELS
from mmdet.structures import SampleList
from mmdet.structures.bbox import bbox2roi
from mmengine.structures import InstanceData
from torch import Tensor

from ...utils.rebuilt_weights import RebuiltWeightsMixin
from ...vlm.zero_shot import class_probabilities
from .offline_rpn_detector import OfflineRPNDetector

#: Sec. 4 (implementation details): "The temperature tau was 0.01".
TEMPERATURE = 0.01


#: Submodules whose weights a zero-shot detector builds from files.
FROM_FILES = ('backbone.', 'roi_head.shared_head.', 'offline_rpn.')


def _all_files_named(cfg: dict) -> bool:
    """Whether the CLIP of backbone and shared head and the offline RPN
    all come from checkpoint files."""
    clips = [(cfg.get('backbone') or {}).get('clip'),
             ((cfg.get('roi_head') or {}).get('shared_head') or {}).get('clip')]
    return (cfg.get('offline_rpn_checkpoint') is not None
            and all(c is not None and c.get('checkpoint') for c in clips))


@MODELS.register_module()
class RegionCLIPZeroShotDetector(RebuiltWeightsMixin, OfflineRPNDetector):
    """Zero-shot detector over an :class:`OfflineRPNDetector` layout.

    The roi head is the C4 one (``CLIPResLayer4Head`` +
    ``CLIPEmbeddingBBoxHead``): its classifier holds the vocabulary, which
    ``set_vocabulary`` / the config's ``vocabulary`` change; its box
    regressor is not used (untrained).

    Args:
        proposals: ``'rpn'`` (default) or ``'gt'`` (ground-truth boxes).
        temperature: softmax temperature tau over the classes (0.01).
        objectness_fusion: ``'geometric'`` (``sqrt(p * o)``) or ``'none'``
            (class probability alone, the Table 4 "w/o fusion" reading).
        other args: :class:`OfflineRPNDetector`; ``test_cfg.rcnn`` holds
            ``score_thr``, ``nms`` and ``max_per_img``.

    Nothing of it is trained: every weight comes from a file its config
    names (the CLIP, an ``image_checkpoint``, ``offline_rpn_checkpoint``).
    When all those files are named, ``state_dict()`` leaves the copies out
    (:data:`FROM_FILES`; a saved zero-shot detector is its vocabulary and
    meta, kilobytes instead of CLIP copies) and loading keeps them as built;
    a detector with a random CLIP (no checkpoint: tests) saves everything.
    """

    def __init__(self, *args, proposals: str = 'rpn',
                 temperature: float = TEMPERATURE,
                 objectness_fusion: str = 'geometric', **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if proposals not in ('rpn', 'gt'):
            raise ValueError(f"proposals must be 'rpn' or 'gt', got "
                             f'{proposals!r}')
        if objectness_fusion not in ('geometric', 'none'):
            raise ValueError("objectness_fusion must be 'geometric' or "
                             f"'none', got {objectness_fusion!r}")
        if temperature <= 0:
            raise ValueError(f'temperature must be > 0, got {temperature}')
        self.proposals = proposals
        self.temperature = float(temperature)
        self.objectness_fusion = objectness_fusion
        self.weights_from_files = _all_files_named(kwargs)

    def rebuilt_keys(self, prefix: str, keys) -> set[str]:
        """Keys under :data:`FROM_FILES` when all files are named
        (:class:`RebuiltWeightsMixin`)."""
        if not self.weights_from_files:
            return set()
        starts = tuple(prefix + p for p in FROM_FILES)
        return {k for k in keys if k.startswith(starts)}

    def loss(self, batch_inputs: Tensor, batch_data_samples: SampleList):
        raise RuntimeError('RegionCLIPZeroShotDetector is inference only; '
                           'train OfflineRPNDetector (transfer) or '
                           'RegionCLIPPretrainer')

    def region_embeddings(self, x: tuple[Tensor], boxes: list[Tensor]
                          ) -> Tensor:
        """Unit region embeddings ``[sum k, D]`` of per-image boxes (input
        pixels): RoIAlign on C4, shared head, classifier normalisation."""
        roi_head = self.roi_head
        rois = bbox2roi(boxes)
        feats = roi_head.bbox_roi_extractor(
            x[:roi_head.bbox_roi_extractor.num_inputs], rois)
        feats = roi_head.shared_head(feats)
        return roi_head.bbox_head.fc_cls.embed(feats.flatten(1))

    def fuse(self, probs: Tensor, objectness: Tensor) -> Tensor:
        """Final class scores ``[k, C]`` (see module doc)."""
        if self.objectness_fusion == 'none':
            return probs
        return (probs * objectness.clamp(0, 1)[:, None]).sqrt()

    def _gt_boxes(self, samples: SampleList) -> list[InstanceData]:
        out = []
        for s in samples:
            if 'gt_instances' not in s:
                raise KeyError(f"proposals='gt' needs ground truth: "
                               f"{s.metainfo.get('img_path')} has none (load "
                               'annotations in the test pipeline)')
            boxes = s.gt_instances.bboxes
            boxes = boxes.tensor if hasattr(boxes, 'tensor') else boxes
            out.append(InstanceData(bboxes=boxes.float(),
                                    scores=boxes.new_ones(len(boxes))))
        return out

    def predict(self, batch_inputs: Tensor, batch_data_samples: SampleList,
                rescale: bool = True) -> SampleList:
        if self.proposals == 'gt':
            proposals = self._gt_boxes(batch_data_samples)
        else:
            proposals = self.propose(batch_inputs, batch_data_samples, 'test')
        x = self.extract_feat(batch_inputs)
        boxes = [p.bboxes for p in proposals]
        emb = self.region_embeddings(x, boxes)
        text = self.roi_head.bbox_head.fc_cls.class_embeddings
        probs = class_probabilities(emb, text, 1.0 / self.temperature)
        cfg = self.test_cfg['rcnn']
        results = []
        for i, (sample, props) in enumerate(zip(batch_data_samples,
                                                proposals)):
            start = sum(len(b) for b in boxes[:i])
            p = probs[start:start + len(props)]
            if self.proposals == 'gt':
                res = self._all_classes(props.bboxes, p, cfg)
            else:
                res = self._nms(props.bboxes, self.fuse(p, props.scores), cfg)
            if rescale and len(res):
                scale = res.bboxes.new_tensor(
                    sample.metainfo['scale_factor']).repeat(2)
                res.bboxes = res.bboxes / scale
            results.append(res)
        return self.add_pred_to_datasample(batch_data_samples, results)

    @staticmethod
    def _nms(boxes: Tensor, scores: Tensor, cfg) -> InstanceData:
        bg = scores.new_zeros(len(scores), 1)
        dets, labels = multiclass_nms(boxes, torch.cat([scores, bg], 1),
                                      cfg.score_thr, cfg.nms, cfg.max_per_img)
        return InstanceData(bboxes=dets[:, :4], scores=dets[:, 4],
                            labels=labels)

    @staticmethod
    def _all_classes(boxes: Tensor, probs: Tensor, cfg) -> InstanceData:
        """Every box's top-1 class, then the best other (box, class) pairs
        up to ``max(max_per_img, #boxes)`` predictions, by score: the
        accuracy needs each box's top-1 and AP the ranked rest."""
        k, c = probs.shape
        scores = probs.reshape(-1)
        labels = torch.arange(c, device=probs.device).repeat(k)
        index = torch.arange(k, device=probs.device).repeat_interleave(c)
        first = torch.arange(k, device=probs.device) * c + probs.argmax(1)
        rest = torch.ones_like(scores, dtype=torch.bool)
        rest[first] = False
        rest = rest.nonzero().squeeze(1)
        extra = max(cfg.max_per_img - k, 0)
        rest = rest[scores[rest].argsort(descending=True)[:extra]]
        keep = torch.cat([first, rest])
        keep = keep[scores[keep].argsort(descending=True)]
        return InstanceData(bboxes=boxes[index[keep]], scores=scores[keep],
                            labels=labels[keep], gt_index=index[keep])
