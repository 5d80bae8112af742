"""XPM (Huynh et al., CVPR 2022;
``shared/papers/xpm-cross-modal-pseudo-labeling.md``) as one pseudo labeler:
caption nouns aligned to the teacher's regions (Eq. 2) and segmented by its
mask head (Eq. 4)::

    from ovd_ext.pseudo_labels import run_labeler
    run_labeler(dict(type='XPMLabeler', teacher_config=..., ...),
                ann_file, img_dir, out)
"""
from .alignment import (align_words, alignment_score, binarize_mask_logits,
                        encode_masks, paste_mask_logits)
from .labeler import XPMLabeler

__all__ = ['align_words', 'alignment_score', 'binarize_mask_logits',
           'encode_masks', 'paste_mask_logits', 'XPMLabeler']
