"""VL-PLM as a registered pseudo labeler (one config dict, DESIGN.md §2)::

    labeler = dict(
        type='VLPLMLabeler',
        proposal_config='configs/vl_plm/...class-agnostic_ovd-shapes-base.py',
        proposal_checkpoint='work_dirs/.../iter_1100.pth',
        clip=dict(name='ovd-tiny-rn', checkpoint='checkpoints/...pt',
                  precision='fp32', templates='imagenet80'),
        targets=['star', 'ring'],     # or 'all', 'novel' (LVIS rare), 'a,b'
        vocabulary=None,              # saved class embeddings (.npy)
        label_space='novel+base', tau=0.8, max_regions=100)  # VLPLMSettings
    run_labeler(labeler, ann_file, img_dir, out)

Every :class:`~.settings.VLPLMSettings` field may be given at the top level.
SSOD (supplement B.1): ``teacher`` (COCO results json) is fused before the
threshold and NMS; ``teacher_only=True`` gives the "Supervised + PLs"
baseline (no detector, no CLIP).
"""
from __future__ import annotations

import os.path as osp
from typing import Sequence

import numpy as np
import torch

from ...utils.class_splits import resolve_classes
from ...utils.checks import check_number
from ..labeler import PSEUDO_LABELERS, BaseLabeler
from ..record import load_json, make_rows
from .generator import VLPLM, fuse_and_select, target_category_ids
from .label_space import build_label_space, label_space_embeddings
from .settings import VLPLMSettings
from .teacher import Detections, load_teacher_labels

CLIP_KEYS = ('name', 'checkpoint', 'precision', 'templates')
PRECISIONS = ('fp32', 'bf16', 'fp16')
RANDOM_PARTS = ('proposal', 'clip')


def detections_to_records(dets: Detections, cat_ids: Sequence[int],
                          ndigits: int = 2,
                          from_teacher: torch.Tensor | None = None
                          ) -> list[dict]:
    """Pseudo labels as rows ``{bbox [x, y, w, h], category_id, score}``
    (``cat_ids[label]`` is the source dataset id of a target index); with
    ``from_teacher`` (SSOD fusion) each row also names its ``source``,
    ``'teacher'`` or ``'vl-plm'``."""
    extras = None
    if from_teacher is not None:
        extras = {'source': ['teacher' if t else 'vl-plm'
                             for t in from_teacher.tolist()]}
    return make_rows(dets.boxes.tolist(),
                     [cat_ids[lab] for lab in dets.labels.tolist()],
                     dets.scores.tolist(), extras=extras, ndigits=ndigits)


def _clip_settings(clip: dict | None, needed: bool) -> dict:
    clip = dict(clip or {})
    unknown = sorted(set(clip) - set(CLIP_KEYS))
    if unknown:
        raise ValueError(f'VLPLMLabeler: unknown clip key(s) {unknown}; '
                         f'one of {CLIP_KEYS}')
    out = {'name': clip.get('name'), 'checkpoint': clip.get('checkpoint'),
           'precision': clip.get('precision', 'fp32'),
           'templates': clip.get('templates', 'imagenet80')}
    if needed and not out['name']:
        raise ValueError('VLPLMLabeler: clip=dict(name=..., checkpoint=...) '
                         'is required (unless teacher_only)')
    if out['precision'] not in PRECISIONS:
        raise ValueError(f'VLPLMLabeler: clip.precision must be one of '
                         f'{PRECISIONS}, got {out["precision"]!r}')
    if isinstance(out['templates'], tuple):
        out['templates'] = list(out['templates'])
    return out


@PSEUDO_LABELERS.register_module()
class VLPLMLabeler(BaseLabeler):
    """VL-PLM pseudo labels (Sec. 3.2, Fig. 2) of one image at a time.

    Args:
        ann_file: COCO/LVIS json of the images (categories, class synonyms).
        proposal_config, proposal_checkpoint: the class-agnostic proposal
            generator (not used with ``teacher_only``).
        clip: ``dict(name, checkpoint, precision='fp32',
            templates='imagenet80')``: open_clip architecture, local weights,
            weight precision (``'bf16'`` is several times faster on CPUs
            with AMX / AVX512-BF16, with slightly different probabilities),
            prompt templates.
        targets: target classes (:func:`ovd_ext.utils.resolve_classes`).
        vocabulary: saved class embeddings (.npy) used instead of encoding
            the class names.
        teacher, teacher_only: SSOD teacher labels (see module doc).
        device: torch device; seed: torch seed set before the models are
            built (random weights are seeded by it).
        random_weights: parts built with random weights instead of a
            checkpoint, a subset of ``('proposal', 'clip')`` (tests only).
        **settings: :class:`~.settings.VLPLMSettings` fields.
    """

    def __init__(self, ann_file: str, proposal_config: str | None = None,
                 proposal_checkpoint: str | None = None,
                 clip: dict | None = None,
                 targets: str | Sequence[str] = 'all',
                 vocabulary: str | None = None, teacher: str | None = None,
                 teacher_only: bool = False, device: str = 'cpu',
                 seed: int = 0, random_weights: Sequence[str] = (),
                 **settings) -> None:
        super().__init__(ann_file)
        unknown = sorted(set(settings) - set(VLPLMSettings.fields()))
        if unknown:
            raise ValueError(f'VLPLMLabeler: unknown setting(s) {unknown}; '
                             f'settings are {list(VLPLMSettings.fields())}')
        self.settings = VLPLMSettings(**settings)
        self.random_weights = tuple(random_weights)
        bad = sorted(set(self.random_weights) - set(RANDOM_PARTS))
        if bad:
            raise ValueError(f'VLPLMLabeler: random_weights {bad} not in '
                             f'{RANDOM_PARTS}')
        self.teacher_only = bool(teacher_only)
        if self.teacher_only and teacher is None:
            raise ValueError('VLPLMLabeler: teacher_only needs a teacher '
                             'pseudo-label file (teacher=...)')
        if not self.teacher_only:
            if not proposal_config:
                raise ValueError('VLPLMLabeler: proposal_config (the class-'
                                 'agnostic proposal generator) is required')
            if not proposal_checkpoint and 'proposal' not in \
                    self.random_weights:
                raise ValueError(
                    'VLPLMLabeler: proposal_checkpoint is not set; give the '
                    'trained proposal generator, e.g. --cfg-options '
                    'pseudo_labeler.proposal_checkpoint=work_dirs/.../'
                    'iter_N.pth')
        self.clip = _clip_settings(clip, not self.teacher_only)
        if (not self.teacher_only and not self.clip['checkpoint']
                and 'clip' not in self.random_weights):
            raise ValueError('VLPLMLabeler: clip.checkpoint (local CLIP '
                             'weights) is not set')
        self.proposal_config = proposal_config
        self.proposal_checkpoint = proposal_checkpoint
        self.vocabulary, self.teacher = vocabulary, teacher
        self.device = device
        self.seed = check_number('seed', seed, 0, integer=True,
                                 where='VLPLMLabeler')
        coco = load_json(ann_file, 'annotation file')
        self.targets = resolve_classes(coco['categories'], targets,
                                       where=ann_file)
        from ...vlm.class_names import from_json
        self.space = build_label_space(from_json(ann_file), self.targets,
                                       self.settings.label_space,
                                       self.settings.bg_text)
        self.cat_ids = target_category_ids(self.space.targets,
                                           coco['categories'])
        self.generator: VLPLM | None = None
        self.teacher_dets: dict[int, Detections] = {}

    def header(self) -> dict:
        return {'type': type(self).__name__,
                'settings': self.settings.to_dict(),
                'proposal_config': self.proposal_config,
                'proposal_checkpoint': self.proposal_checkpoint,
                'clip': self.clip, 'vocabulary': self.vocabulary,
                'label_space_names': self.space.names,
                'num_targets': self.space.num_targets,
                'teacher': self.teacher, 'teacher_only': self.teacher_only,
                'seed': self.seed,
                'random_weights': list(self.random_weights)}

    def _check_files(self) -> None:
        files = [('teacher', self.teacher)]
        if not self.teacher_only:
            files += [('proposal_config', self.proposal_config),
                      ('vocabulary', self.vocabulary)]
            if 'proposal' not in self.random_weights:
                files.append(('proposal_checkpoint', self.proposal_checkpoint))
        for key, path in files:
            if path is not None and not osp.isfile(path):
                raise FileNotFoundError(f'VLPLMLabeler: {key} {path} not '
                                        'found')
        ckpt = self.clip['checkpoint']
        if (not self.teacher_only and 'clip' not in self.random_weights
                and not osp.isfile(str(ckpt))):
            from ...vlm.builder import missing_checkpoint_message
            raise FileNotFoundError('VLPLMLabeler: ' +
                                    missing_checkpoint_message(
                                        self.clip['name'], str(ckpt)))

    def load(self) -> None:
        """Teacher labels, proposal generator, CLIP and the label space's
        text embeddings (seeded: random weights are reproducible)."""
        from ...vlm.builder import build_clip
        from .proposals import load_proposal_generator
        self._check_files()
        torch.manual_seed(self.seed)
        if self.teacher is not None:
            self.teacher_dets, _ = load_teacher_labels(
                self.teacher, {c: i for i, c in enumerate(self.cat_ids)})
        if self.teacher_only:
            return
        detector = load_proposal_generator(
            self.proposal_config,
            None if 'proposal' in self.random_weights
            else self.proposal_checkpoint, self.device)
        clip = build_clip(self.clip['name'],
                          None if 'clip' in self.random_weights
                          else self.clip['checkpoint'],
                          device=self.device,
                          precision=self.clip['precision'])
        text = label_space_embeddings(clip, self.space,
                                      self.clip['templates'], self.vocabulary)
        self.generator = VLPLM(detector, clip, text, self.space.num_targets,
                               self.settings)

    def __call__(self, image_info: dict, image: np.ndarray) -> list[dict]:
        teacher = self.teacher_dets.get(int(image_info['id']))
        s = self.settings
        if self.teacher_only:
            dets = fuse_and_select(Detections.empty(), teacher, s.tau,
                                   s.nms_iou, s.teacher_tau)
            return detections_to_records(dets, self.cat_ids)
        if self.generator is None:
            raise RuntimeError('VLPLMLabeler.load() was not called')
        result = self.generator(image, teacher)
        # with a teacher (SSOD fusion) every record names its source
        return detections_to_records(
            result.labels, self.cat_ids,
            from_teacher=None if self.teacher is None else result.from_teacher)
