"""OVD-Shapes: the embedded synthetic open-vocabulary detection benchmark
(DESIGN.md §4), in one home.

* the generator (this package's top-level modules):
  ``generate_ovd_shapes(out_dir, num_train, num_val, num_imagelabel, seed)``
  writes images, COCO / LVIS / captions / image-label jsons and ``meta.json``
  (see ``generate.py``); the CLI is ``tools/shapes/make_ovd_shapes.py``;
* :mod:`.tiny_clip`: the image-text pairs, object descriptions, recipes and
  zero-shot evaluation of the project's tiny CLIPs, trained by the generic
  trainer of :mod:`ovd_ext.vlm.training` (CLIs ``tools/shapes/
  train_tiny_clip.py`` and ``eval_tiny_clip.py``).

The mmdet datasets that read the generated files are the generic ones of
:mod:`ovd_ext.datasets`; nothing here is registered. Importing this package
does not import :mod:`.tiny_clip` (nor torch / open_clip).
"""
from .categories import (BASE_CLASSES, CLASSES, COMMON_CLASSES,
                         FREQUENT_CLASSES, NOVEL_CLASSES, RARE_CLASSES)
from .generate import DEFAULTS, generate_ovd_shapes
from .lvis_format import frequency_thresholds

__all__ = ['CLASSES', 'BASE_CLASSES', 'NOVEL_CLASSES', 'RARE_CLASSES',
           'COMMON_CLASSES', 'FREQUENT_CLASSES', 'DEFAULTS',
           'generate_ovd_shapes', 'frequency_thresholds']
