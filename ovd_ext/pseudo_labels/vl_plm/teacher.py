"""External pseudo labels of an SSOD teacher (VL-PLM Sec. 3.3, supplement B.1).

For semi-supervised detection VL-PLM merges the teacher's pseudo labels with
its own "before thresholding and NMS" (Fig. 5). The paper states no other score
combination: every box keeps its own confidence (Eq. 4's fused score for
VL-PLM regions, the teacher's detection score for teacher boxes), the union is
thresholded at the same tau and per-class NMS lets the higher-scoring box win
where the two sources overlap. ``teacher_tau`` can give the teacher boxes their
own threshold (default: the same tau).
"""
from __future__ import annotations

from collections import defaultdict
from typing import NamedTuple

import torch
from mmengine.logging import print_log

from ..record import (PseudoLabelFormatError, check_annotations,
                      format_drops, load_json)


class Detections(NamedTuple):
    """Boxes (xyxy, image pixels), scores and label-space indices."""
    boxes: torch.Tensor
    scores: torch.Tensor
    labels: torch.Tensor

    @classmethod
    def empty(cls) -> 'Detections':
        return cls(torch.zeros(0, 4), torch.zeros(0), torch.zeros(0).long())

    def __len__(self) -> int:
        return int(self.scores.numel())


def cat(parts: list[Detections]) -> Detections:
    """Concatenate detections of one image."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return Detections.empty()
    return Detections(torch.cat([p.boxes.float().cpu() for p in parts]),
                      torch.cat([p.scores.float().cpu() for p in parts]),
                      torch.cat([p.labels.long().cpu() for p in parts]))


def load_teacher_labels(path: str, cat_to_label: dict[int, int]
                        ) -> tuple[dict[int, Detections], dict[str, int]]:
    """Read a teacher's pseudo labels, grouped by image id.

    Args:
        path: COCO detection results (a list of ``{image_id, category_id,
            bbox [x, y, w, h], score}``) or a COCO json whose ``annotations``
            carry a ``score``.
        cat_to_label: source category id -> index in the target classes;
            detections of other categories are not target classes and are
            counted and left out.

    Returns:
        ``{image_id: Detections}`` and counts ``{'loaded', 'not_target'}``
        plus, when any, the detections dropped by reason (non-finite score
        or box, box without area; :mod:`..record`). A malformed detection
        is an error naming the file, its index and the field.
    """
    data = load_json(path, 'teacher pseudo-label file')
    dets = data.get('annotations') if isinstance(data, dict) else data
    if not isinstance(dets, list):
        raise PseudoLabelFormatError(
            path, None, 'annotations', 'expected a COCO results list or a '
            'COCO json with "annotations"')
    dets, dropped = check_annotations(
        dets, path, ('image_id', 'category_id', 'bbox', 'score'))
    rows: dict[int, list] = defaultdict(list)
    counts = {'loaded': 0, 'not_target': 0, **dropped}
    for d in dets:
        label = cat_to_label.get(int(d['category_id']))
        if label is None:
            counts['not_target'] += 1
            continue
        x, y, w, h = (float(v) for v in d['bbox'])
        rows[int(d['image_id'])].append((x, y, x + w, y + h,
                                         float(d['score']), label))
        counts['loaded'] += 1
    if dropped:
        print_log(f'{path}: dropped {format_drops(dropped)} teacher '
                  'detections', logger='current')
    out = {}
    for img_id, r in rows.items():
        t = torch.tensor(r, dtype=torch.float64)
        out[img_id] = Detections(t[:, :4].float(), t[:, 4].float(),
                                 t[:, 5].long())
    return out, counts
