"""Every knob of VL-PLM, checked where it is parsed.

Defaults are the paper's where it states one (Sec. 3.2, 4.1, 4.3,
supplement B.3 / B.4); every numeric setting is checked against its range
(NaN refused) with an error that names the setting.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ...utils.checks import check_number, check_numbers
from ...vlm.regions import MS_AREA_THRESHOLDS, MS_SHORT_SIDES, REGION_MODES
from .label_space import BACKGROUND_TEXT, DEFAULT_LABEL_SPACE, LABEL_SPACES
from .proposals import REFINE_ITERS, RPN_NMS_IOU, RPN_TOPK
from .scoring import DEFAULT_PL_NMS_IOU

#: Eq. 4 threshold (Sec. 4.1, "tau = 0.8").
TAU = 0.8


@dataclass
class VLPLMSettings:
    """Every knob of VL-PLM; defaults are the paper's where it states one.

    Attributes:
        topk: RPN proposals kept after NMS (B.4: 1000); >= 1.
        rpn_nms_iou: RPN NMS IoU (Sec. 4.1: 0.3); in (0, 1].
        rpn_nms_pre: RPN boxes per level before NMS (detectron2/mmdet:
            1000); >= 1.
        refine_iters: RoI-head refinements N (Sec. 4.3: 10); >= 0.
        max_regions: CLIP-score only the ``max_regions`` proposals with the
            highest RPN score (None: all ``topk``, the paper's setting; the
            authors' released code scores the top 100); >= 1.
        min_size: regions narrower or lower than this many pixels (after
            clipping to the image) are not scored (paper silent; a crop of a
            few pixels carries no information for CLIP; the authors' code
            uses 5); >= 0.
        scales: crop scales of Eq. 5 (1x and 1.5x); each > 0.
        tau: Eq. 4 threshold (0.8); in [0, 1].
        nms_iou: per-class NMS IoU on the pseudo labels (paper silent; see
            :data:`~.scoring.DEFAULT_PL_NMS_IOU`); in (0, 1].
        label_space: supplement B.3 label space (default ``'novel'``).
        bg_text: the background text of the ``+bg`` spaces.
        logit_scale: softmax scale of Eq. 5 (None: CLIP's learned
            ``exp(logit_scale)``); > 0.
        region_mode: ``'crops'`` (VL-PLM), ``'fast'`` or ``'fast-ms'``
            (supplement A.2), see :mod:`ovd_ext.vlm.regions`.
        crop_batch_size: crops per CLIP forward in ``'crops'`` mode; >= 1.
        fast_short_side: ``'fast'``: short side of the shared pass (None:
            the image resolution); >= 1.
        ms_short_sides, ms_area_thresholds: ``'fast-ms'`` pyramid (A.2):
            short sides >= 1, one fewer area threshold, descending, >= 0.
        teacher_tau: threshold for teacher labels in SSOD (None: ``tau``);
            in [0, 1].
    """
    topk: int = RPN_TOPK
    rpn_nms_iou: float = RPN_NMS_IOU
    rpn_nms_pre: int = 1000
    refine_iters: int = REFINE_ITERS
    max_regions: int | None = None
    min_size: float = 5.0
    scales: tuple = (1.0, 1.5)
    tau: float = TAU
    nms_iou: float = DEFAULT_PL_NMS_IOU
    label_space: str = DEFAULT_LABEL_SPACE
    bg_text: str = BACKGROUND_TEXT
    logit_scale: float | None = None
    region_mode: str = 'crops'
    crop_batch_size: int = 64
    fast_short_side: int | None = None
    ms_short_sides: tuple = MS_SHORT_SIDES
    ms_area_thresholds: tuple = MS_AREA_THRESHOLDS
    teacher_tau: float | None = None

    def __post_init__(self) -> None:
        where = 'VL-PLM settings'

        def num(name, low=None, high=None, **kw):
            setattr(self, name, check_number(name, getattr(self, name), low,
                                             high, where=where, **kw))
        num('topk', 1, integer=True)
        num('rpn_nms_iou', 0, 1, low_open=True)
        num('rpn_nms_pre', 1, integer=True)
        num('refine_iters', 0, integer=True)
        num('max_regions', 1, integer=True, optional=True)
        num('min_size', 0)
        num('tau', 0, 1)
        num('nms_iou', 0, 1, low_open=True)
        num('logit_scale', 0, low_open=True, optional=True)
        num('crop_batch_size', 1, integer=True)
        num('fast_short_side', 1, integer=True, optional=True)
        num('teacher_tau', 0, 1, optional=True)
        self.scales = tuple(float(s) for s in check_numbers(
            'scales', self.scales, 0, low_open=True, where=where))
        self.ms_short_sides = check_numbers(
            'ms_short_sides', self.ms_short_sides, 1, integer=True,
            where=where)
        self.ms_area_thresholds = tuple(float(a) for a in check_numbers(
            'ms_area_thresholds', self.ms_area_thresholds, 0, min_len=0,
            where=where))
        if len(self.ms_area_thresholds) != len(self.ms_short_sides) - 1:
            raise ValueError(f'{where}: {len(self.ms_short_sides)} '
                             f'ms_short_sides need '
                             f'{len(self.ms_short_sides) - 1} '
                             'ms_area_thresholds, got '
                             f'{list(self.ms_area_thresholds)}')
        if list(self.ms_area_thresholds) != sorted(self.ms_area_thresholds,
                                                   reverse=True):
            raise ValueError(f'{where}: ms_area_thresholds must be '
                             'descending, got '
                             f'{list(self.ms_area_thresholds)}')
        if self.label_space not in LABEL_SPACES:
            raise ValueError(f'{where}: label_space must be one of '
                             f'{LABEL_SPACES}, got {self.label_space!r}')
        if self.region_mode not in REGION_MODES:
            raise ValueError(f'{where}: region_mode must be one of '
                             f'{REGION_MODES}, got {self.region_mode!r}')
        if not isinstance(self.bg_text, str) or not self.bg_text.strip():
            raise ValueError(f'{where}: bg_text must be a non-empty string, '
                             f'got {self.bg_text!r}')

    @classmethod
    def fields(cls) -> tuple[str, ...]:
        """Names of all settings."""
        return tuple(f.name for f in dataclasses.fields(cls))

    def to_dict(self) -> dict:
        """json-able settings (tuples as lists)."""
        return {k: (list(v) if isinstance(v, tuple) else v)
                for k, v in dataclasses.asdict(self).items()}
