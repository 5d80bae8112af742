"""Contrastive (CLIP) training of the project's tiny CLIPs (DESIGN.md §4).

Pieces, one idea per module:

* :mod:`.loss` — symmetric InfoNCE with multi-positive (class-aware) targets;
* :mod:`.descriptions` — templated object descriptions (class + attributes);
* :mod:`.augment` — box jitter, random windows, flips, exact inference crops;
* :mod:`.pairs` — image-text pairs of the OVD-Shapes train split;
* :mod:`.loop` — AdamW + warmup/cosine loop, seeded data order, resume;
* :mod:`.checkpoint` — atomic fp16 weights / json writing;
* :mod:`.zero_shot` — zero-shot top-1 of GT crops (1x, 1.5x, VL-PLM Eq. 5).

The CLI is ``tools/shapes/train_tiny_clip.py``.
"""
from .augment import JitterConfig, crop_resize, jitter_box, mirror_text
from .checkpoint import (atomic_json, atomic_torch_save, half_state_dict,
                         save_fp16_weights, sha256_file)
from .descriptions import (CAPTION_TEMPLATES, DescriptionConfig,
                           describe_object, object_phrase)
from .loop import TrainConfig, contrastive_step, lr_factor, train_clip
from .loss import (embedding_distill_loss, multi_positive_clip_loss,
                   positive_mask, soft_targets)
from .pairs import PairBatch, ShapesPairs
from .zero_shot import crop_accuracy, load_gt_crops, per_class_accuracy

__all__ = [
    'JitterConfig', 'crop_resize', 'jitter_box', 'mirror_text',
    'atomic_json', 'atomic_torch_save', 'half_state_dict',
    'save_fp16_weights', 'sha256_file', 'CAPTION_TEMPLATES',
    'DescriptionConfig', 'describe_object', 'object_phrase', 'TrainConfig',
    'contrastive_step', 'lr_factor', 'train_clip',
    'embedding_distill_loss', 'multi_positive_clip_loss', 'positive_mask',
    'soft_targets', 'PairBatch',
    'ShapesPairs', 'crop_accuracy', 'load_gt_crops', 'per_class_accuracy',
]
