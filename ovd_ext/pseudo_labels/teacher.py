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

import json
from collections import defaultdict
from typing import NamedTuple

import torch


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
        ``{image_id: Detections}`` and counts ``{'loaded', 'not_target'}``.
    """
    try:
        with open(path) as f:
            data = json.load(f)
    except FileNotFoundError:
        raise FileNotFoundError(f'teacher pseudo-label file {path} not '
                                'found') from None
    dets = data['annotations'] if isinstance(data, dict) else data
    if not isinstance(dets, list):
        raise ValueError(f'{path}: expected a COCO results list or a COCO '
                         'json with "annotations"')
    rows: dict[int, list] = defaultdict(list)
    counts = {'loaded': 0, 'not_target': 0}
    for i, d in enumerate(dets):
        if 'score' not in d or 'bbox' not in d:
            raise ValueError(f'{path}: detection #{i} (image '
                             f'{d.get("image_id")}) has no "score"/"bbox"')
        label = cat_to_label.get(int(d['category_id']))
        if label is None:
            counts['not_target'] += 1
            continue
        x, y, w, h = (float(v) for v in d['bbox'])
        rows[int(d['image_id'])].append((x, y, x + w, y + h,
                                         float(d['score']), label))
        counts['loaded'] += 1
    out = {}
    for img_id, r in rows.items():
        t = torch.tensor(r, dtype=torch.float64)
        out[img_id] = Detections(t[:, :4].float(), t[:, 4].float(),
                                 t[:, 5].long())
    return out, counts
