"""Fixtures shared by the tests and the benchmarks (as ``mmdet.testing``).

* :func:`random_clip` — a project tiny CLIP with seeded random weights (no
  checkpoint file needed);
* :func:`make_shapes` — a few OVD-Shapes images with all their jsons;
* :func:`make_lvis_gt` / :func:`make_lvis_dets` — a seeded synthetic LVIS v1
  ground truth and detections for the LVIS metric.

Nothing in the library proper imports this package.
"""
from .clip import random_clip
from .shapes import make_shapes
from .synthetic_lvis import make_lvis_dets, make_lvis_gt

__all__ = ['random_clip', 'make_shapes', 'make_lvis_gt', 'make_lvis_dets']
