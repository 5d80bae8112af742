"""Random regions and RPN targets of DITO's region-centric pretraining
(REP, Sec. 3.2).

* :func:`sample_region_boxes`: "for each level i of the feature pyramid, we
  randomly generate n_i box regions uniformly over the image by sampling the
  box size h, w ~ Uniform(0.2, 0.5) and aspect ratio h/w ~ Uniform(0.5,
  2.0)". Both conditions hold by rejection: h and w (fractions of the image
  height / width) are drawn uniformly and pairs whose ratio h/w falls
  outside the aspect range are drawn again, so the accepted sizes are
  uniform over the part of the square that satisfies the aspect bound. The
  box is placed uniformly so that it lies inside the image.
* :func:`centre_cells`: the feature-map cell under each box centre, where
  the RPN objectness target ``max(0, cos(RoI embedding, text))`` applies
  ("the losses are propagated only through the RoI centers").
"""
from __future__ import annotations

from typing import Sequence

import torch

#: Sec. 4 (pretraining setup): boxes per level P2..P5.
NUM_BOXES = (400, 200, 100, 50)
SIZE_RANGE = (0.2, 0.5)
ASPECT_RANGE = (0.5, 2.0)


def sample_relative_sizes(n: int, size_range: Sequence[float] = SIZE_RANGE,
                          aspect_range: Sequence[float] = ASPECT_RANGE,
                          generator: torch.Generator | None = None,
                          device=None) -> torch.Tensor:
    """``[n, 2]`` (h, w) fractions with h, w ~ U(size_range) and h / w in
    ``aspect_range`` (rejection sampling; see module doc)."""
    lo, hi = size_range
    if not 0 < lo <= hi <= 1:
        raise ValueError(f'size_range {size_range} must lie in (0, 1]')
    if aspect_range[0] > hi / lo or aspect_range[1] < lo / hi:
        raise ValueError(f'no size in {size_range} has an aspect ratio in '
                         f'{aspect_range}')
    out = torch.empty(0, 2, device=device)
    while len(out) < n:
        hw = torch.rand(2 * n + 8, 2, generator=generator).to(device)
        hw = lo + (hi - lo) * hw
        ratio = hw[:, 0] / hw[:, 1]
        ok = (ratio >= aspect_range[0]) & (ratio <= aspect_range[1])
        out = torch.cat([out, hw[ok]])
    return out[:n]


def sample_region_boxes(n: int, img_hw: tuple[int, int],
                        size_range: Sequence[float] = SIZE_RANGE,
                        aspect_range: Sequence[float] = ASPECT_RANGE,
                        generator: torch.Generator | None = None,
                        device=None) -> torch.Tensor:
    """``[n, 4]`` xyxy boxes in pixels of an ``img_hw`` image."""
    h_img, w_img = img_hw
    rel = sample_relative_sizes(n, size_range, aspect_range, generator,
                                device)
    pos = torch.rand(n, 2, generator=generator).to(device)
    y1 = pos[:, 0] * (1 - rel[:, 0]) * h_img
    x1 = pos[:, 1] * (1 - rel[:, 1]) * w_img
    return torch.stack([x1, y1, x1 + rel[:, 1] * w_img,
                        y1 + rel[:, 0] * h_img], dim=1)


def centre_cells(boxes: torch.Tensor, stride: int,
                 map_hw: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Row and column (long ``[n]`` each) of the ``stride`` map cell that
    contains each box centre."""
    cx = (boxes[:, 0] + boxes[:, 2]) / 2
    cy = (boxes[:, 1] + boxes[:, 3]) / 2
    col = (cx / stride).floor().long().clamp(0, map_hw[1] - 1)
    row = (cy / stride).floor().long().clamp(0, map_hw[0] - 1)
    return row, col


def rpn_centre_loss(objectness: torch.Tensor, batch_idx: torch.Tensor,
                    rows: torch.Tensor, cols: torch.Tensor,
                    target: torch.Tensor) -> torch.Tensor:
    """L1 between ``sigmoid(objectness)`` ``[B, A, h, w]`` (every anchor of
    the cell) at the RoI centres and the targets ``[n]`` in [0, 1]; the
    other cells get no loss."""
    pred = objectness[batch_idx, :, rows, cols].sigmoid()     # n A
    return (pred - target[:, None].to(pred.dtype)).abs().mean()
