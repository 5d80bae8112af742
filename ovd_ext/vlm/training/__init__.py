"""Generic contrastive (CLIP) training: any open_clip model, any pairs.

Pieces, one idea per module:

* :mod:`.loss` — symmetric InfoNCE with multi-positive (class-aware) targets
  and embedding distillation;
* :mod:`.augment` — box jitter, random windows, flips, exact inference crops;
* :mod:`.loop` — AdamW + warmup/cosine loop, seeded data order, resume; it
  draws :class:`PairBatch` es from any :class:`PairSampler`;
* :mod:`.checkpoint` — atomic fp16 weights / json writing;
* :mod:`.warm_start` — start a text tower from another CLIP's weights.

Data comes from outside: the OVD-Shapes side
(:mod:`ovd_ext.shapes.tiny_clip`) builds the image-text pairs and holds the
recipes of the shipped tiny CLIPs; ``tools/shapes/train_tiny_clip.py`` is
their CLI.
"""
from .augment import (JitterConfig, crop_resize, jitter_box, mirror_text,
                      random_image_box)
from .checkpoint import (atomic_json, half_state_dict, save_fp16_weights,
                         sha256_file)
from .loop import (PairBatch, PairSampler, TrainConfig, contrastive_step,
                   lr_factor, train_clip)
from .loss import (embedding_distill_loss, multi_positive_clip_loss,
                   positive_mask, soft_targets)
from .warm_start import copy_text_tower, is_text_param

__all__ = [
    'JitterConfig', 'crop_resize', 'jitter_box', 'mirror_text',
    'random_image_box', 'atomic_json', 'half_state_dict', 'save_fp16_weights',
    'sha256_file', 'PairBatch', 'PairSampler', 'TrainConfig',
    'contrastive_step', 'lr_factor',
    'train_clip', 'embedding_distill_loss', 'multi_positive_clip_loss',
    'positive_mask', 'soft_targets', 'copy_text_tower', 'is_text_param',
]
