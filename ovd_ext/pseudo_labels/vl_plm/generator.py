"""VL-PLM pseudo labels of one image (Sec. 3.2, Fig. 2).

proposals (RPN, NMS 0.3, top 1000) -> N=10 RoI-head refinements ->
Eq. 5 region class distribution from CLIP (1x + 1.5x crops) ->
Eq. 4 fusion with the RPN score -> [SSOD: union with the teacher's labels,
supplement B.1] -> s >= tau (0.8) -> per-class NMS.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from torch import nn

from ...vlm.regions import region_embeddings
from ...vlm.wrapper import CLIPWrapper
from ...vlm.zero_shot import ZeroShotScorer, clip_logit_scale
from .proposals import Proposals, inference_pipeline, propose
from .scoring import fuse_scores, threshold_and_nms
from .settings import VLPLMSettings
from .teacher import Detections, cat

@dataclass
class ImageResult:
    """Pseudo labels of one image plus the intermediate stages."""
    labels: Detections                       # final pseudo labels
    proposals: Proposals | None = None
    scored: Detections | None = None         # VL-PLM regions before tau/NMS
    num_dropped_extra: int = 0               # argmax was an extra class
    #: per final label: True where it is an SSOD teacher's box (B.1 fusion)
    from_teacher: torch.Tensor | None = None


class VLPLM:
    """Pseudo-label generator: a class-agnostic two-stage detector + CLIP.

    Args:
        detector: from :func:`~.proposals.load_proposal_generator`.
        clip: from :func:`ovd_ext.vlm.build_clip`.
        text_emb: ``[C, D]`` unit text embeddings of the label space, target
            classes first (:func:`~.label_space.label_space_embeddings`).
        num_targets: how many leading rows of ``text_emb`` are targets.
        settings: :class:`VLPLMSettings`.
    """

    def __init__(self, detector: nn.Module, clip: CLIPWrapper,
                 text_emb: torch.Tensor, num_targets: int,
                 settings: VLPLMSettings | None = None) -> None:
        self.detector = detector
        self.clip = clip
        self.text_emb = text_emb
        self.num_targets = int(num_targets)
        self.settings = settings or VLPLMSettings()
        self.pipeline = inference_pipeline(detector.cfg)
        scale = self.settings.logit_scale
        self.logit_scale = float(clip_logit_scale(clip) if scale is None
                                 else scale)
        self.scorer = ZeroShotScorer(text_emb, self.logit_scale,
                                     self.num_targets)

    def regions(self, image: np.ndarray) -> Proposals:
        """Refined proposals of a BGR image, filtered by ``min_size`` and
        cut to ``max_regions`` (highest RPN score first).

        With ``max_regions`` set only that many proposals are taken from the
        RPN (its NMS output is sorted by score, so they are the first
        ``max_regions`` of the ``topk``) and refined: proposals that are
        never scored are never refined.
        """
        s = self.settings
        k = s.topk if s.max_regions is None else min(s.topk, s.max_regions)
        props = propose(self.detector, self.pipeline, image, k,
                        s.rpn_nms_iou, s.refine_iters, s.rpn_nms_pre)
        wh = props.boxes[:, 2:] - props.boxes[:, :2]
        keep = torch.nonzero((wh >= s.min_size).all(dim=1)).flatten()
        if s.max_regions is not None:
            keep = keep[:s.max_regions]
        return Proposals(props.boxes[keep], props.rpn_boxes[keep],
                         props.rpn_scores[keep])

    def score(self, image: np.ndarray, props: Proposals
              ) -> tuple[Detections, int]:
        """Eq. 5 and Eq. 4 for every region: fused score ``s`` and target
        class; regions whose argmax is an extra class are removed (B.3).
        Returns the scored regions and how many were removed."""
        s = self.settings
        emb = region_embeddings(
            self.clip, image, props.boxes, s.region_mode, s.scales,
            s.crop_batch_size, bgr=True, fast_short_side=s.fast_short_side,
            ms_short_sides=s.ms_short_sides,
            ms_area_thresholds=s.ms_area_thresholds)
        lab = self.scorer(emb)       # Eq. 5 over the label space, argmax
        fused = fuse_scores(props.rpn_scores, lab.max_prob)
        k = lab.keep
        return (Detections(props.boxes[k], fused[k], lab.labels[k]),
                int((~k).sum()))

    def __call__(self, image: np.ndarray,
                 teacher: Detections | None = None) -> ImageResult:
        """Pseudo labels of one BGR HxWx3 image; ``teacher``: external
        pseudo labels of this image (SSOD, B.1), merged before the threshold
        and NMS."""
        s = self.settings
        props = self.regions(image)
        scored, dropped = self.score(image, props)
        labels, from_teacher = fuse_and_select(
            scored, teacher, s.tau, s.nms_iou, s.teacher_tau,
            with_source=True)
        return ImageResult(labels, props, scored, dropped, from_teacher)


def fuse_and_select(ours: Detections, teacher: Detections | None,
                    tau: float, nms_iou: float,
                    teacher_tau: float | None = None,
                    with_source: bool = False
                    ) -> Detections | tuple[Detections, torch.Tensor]:
    """Union of VL-PLM's scored regions and a teacher's pseudo labels
    (supplement B.1, Fig. 5), then the threshold (Eq. 4's ``[s >= tau]``; the
    teacher's boxes against ``teacher_tau`` when given) and per-class NMS over
    the union; every box keeps its own score. Returns the kept labels sorted
    by descending score and, with ``with_source``, a bool tensor that is
    True for the kept boxes that came from the teacher."""
    teacher = teacher if teacher is not None else Detections.empty()
    merged = cat([ours, teacher])
    if not len(merged):
        return (merged, torch.zeros(0, dtype=torch.bool)) if with_source \
            else merged
    thr = torch.full_like(merged.scores, float(tau))
    if teacher_tau is not None:
        thr[len(merged) - len(teacher):] = float(teacher_tau)
    idx = torch.nonzero(merged.scores >= thr).flatten()
    keep = idx[threshold_and_nms(merged.boxes[idx], merged.scores[idx],
                                 merged.labels[idx], -float('inf'), nms_iou)]
    out = Detections(merged.boxes[keep], merged.scores[keep],
                     merged.labels[keep])
    if not with_source:
        return out
    return out, keep >= len(merged) - len(teacher)


def target_category_ids(targets: Sequence[str],
                        categories: Sequence[dict]) -> list[int]:
    """Source-dataset category id of each target class name."""
    by_name = {c['name']: int(c['id']) for c in categories}
    missing = [t for t in targets if t not in by_name]
    if missing:
        raise ValueError(f'target class {missing[0]!r} is not a category of '
                         'the dataset json')
    return [by_name[t] for t in targets]
