"""The OVD-Shapes tiny CLIPs: training pairs, recipes, zero-shot evaluation.

* :mod:`.descriptions` — templated object descriptions (class + attributes);
* :mod:`.pairs` — image-text pairs of the OVD-Shapes train split
  (:class:`ShapesPairs`, a :class:`ovd_ext.vlm.training.PairSampler`);
* :mod:`.recipe` — the shipped models' recipes end to end (train with
  :func:`ovd_ext.vlm.training.train_clip`, save, provenance);
* :mod:`.zero_shot` — zero-shot top-1 of GT crops (1x, 1.5x, VL-PLM Eq. 5).

CLIs: ``tools/shapes/train_tiny_clip.py``, ``tools/shapes/eval_tiny_clip.py``.
"""
from .descriptions import (CAPTION_TEMPLATES, DescriptionConfig,
                           describe_object, object_phrase)
from .pairs import CAPTION_KEY_OFFSET, ShapesPairs
from .recipe import RECIPES, Recipe, run_recipe, zero_shot_report
from .zero_shot import crop_accuracy, load_gt_crops, per_class_accuracy

__all__ = [
    'CAPTION_TEMPLATES', 'DescriptionConfig', 'describe_object',
    'object_phrase', 'CAPTION_KEY_OFFSET', 'ShapesPairs', 'RECIPES',
    'Recipe', 'run_recipe', 'zero_shot_report', 'crop_accuracy',
    'load_gt_crops', 'per_class_accuracy',
]
