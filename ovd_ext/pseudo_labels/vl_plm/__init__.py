"""VL-PLM (Zhao et al., ECCV 2022; ``shared/papers/vl-plm.txt``) as one
pseudo labeler: a class-agnostic two-stage proposal generator localises
regions, CLIP names them (Eq. 5, the shared zero-shot scorer of
:mod:`ovd_ext.vlm.zero_shot`), Eq. 4 fuses the scores, tau and NMS select::

    from ovd_ext.pseudo_labels import run_labeler
    run_labeler(dict(type='VLPLMLabeler', proposal_config=..., ...),
                ann_file, img_dir, out)

or, one image at a time, ``VLPLM(detector, clip, text_emb, num_targets,
VLPLMSettings())(bgr_image).labels``.
"""
from .generator import (VLPLM, ImageResult, fuse_and_select,
                        target_category_ids)
from .label_space import (BACKGROUND_TEXT, DEFAULT_LABEL_SPACE, LABEL_SPACES,
                          LabelSpace, build_label_space,
                          label_space_embeddings)
from .labeler import VLPLMLabeler, detections_to_records
from .proposals import (REFINE_ITERS, RPN_NMS_IOU, RPN_TOPK, Proposals,
                        load_proposal_generator, propose, refine_boxes,
                        rpn_proposals)
from .scoring import (DEFAULT_PL_NMS_IOU, confidence, fuse_scores,
                      threshold_and_nms)
from .settings import TAU, VLPLMSettings
from .ssod_splits import PERCENTS, make_ssod_splits, ssod_split
from .teacher import Detections, load_teacher_labels

__all__ = [
    'VLPLM', 'ImageResult', 'fuse_and_select', 'target_category_ids',
    'BACKGROUND_TEXT', 'DEFAULT_LABEL_SPACE', 'LABEL_SPACES', 'LabelSpace',
    'build_label_space', 'label_space_embeddings', 'VLPLMLabeler',
    'detections_to_records', 'REFINE_ITERS', 'RPN_NMS_IOU', 'RPN_TOPK',
    'Proposals', 'load_proposal_generator', 'propose', 'refine_boxes',
    'rpn_proposals', 'DEFAULT_PL_NMS_IOU', 'confidence', 'fuse_scores',
    'threshold_and_nms', 'TAU', 'VLPLMSettings', 'PERCENTS',
    'make_ssod_splits', 'ssod_split', 'Detections', 'load_teacher_labels',
]
