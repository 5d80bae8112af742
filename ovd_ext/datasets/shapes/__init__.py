"""OVD-Shapes: the embedded synthetic open-vocabulary detection benchmark.

``generate_ovd_shapes(out_dir, num_train, num_val, num_imagelabel, seed)``
writes images, COCO / LVIS / captions / image-label jsons and ``meta.json``
(see ``generate.py``); the CLI is ``tools/shapes/make_ovd_shapes.py``.
"""
from .categories import (BASE_CLASSES, CLASSES, COMMON_CLASSES,
                         FREQUENT_CLASSES, NOVEL_CLASSES, RARE_CLASSES)
from .generate import DEFAULTS, generate_ovd_shapes
from .lvis_format import frequency_thresholds

__all__ = ['CLASSES', 'BASE_CLASSES', 'NOVEL_CLASSES', 'RARE_CLASSES',
           'COMMON_CLASSES', 'FREQUENT_CLASSES', 'DEFAULTS',
           'generate_ovd_shapes', 'frequency_thresholds']
