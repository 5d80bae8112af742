"""Offline pseudo-label generators as library code.

VL-PLM (Zhao et al., ECCV 2022; ``shared/papers/vl-plm.txt``): a class-agnostic
two-stage proposal generator localises regions, CLIP names them::

    from ovd_ext.pseudo_labels import VLPLM, VLPLMSettings
    gen = VLPLM(detector, clip, text_emb, num_targets, VLPLMSettings())
    result = gen(bgr_image)          # result.labels: boxes, scores, labels

:func:`generate_pseudo_labels` runs it over a COCO json (sharded, resumable)
and writes the pseudo-label json of DESIGN.md §3.
"""
from .api import (generate_pseudo_labels, generate_pseudo_labels_parallel,
                  resolve_targets)
from .generator import (TAU, VLPLM, ImageResult, VLPLMSettings,
                        fuse_and_select, target_category_ids)
from .label_space import (BACKGROUND_TEXT, DEFAULT_LABEL_SPACE, LABEL_SPACES,
                          LabelSpace, build_label_space,
                          label_space_embeddings)
from .proposals import (REFINE_ITERS, RPN_NMS_IOU, RPN_TOPK, Proposals,
                        load_proposal_generator, propose, refine_boxes,
                        rpn_proposals)
from .quality import draw_pseudo_labels, pseudo_label_quality
from .regions import (REGION_MODES, multiscale_feature_embeddings,
                      pyramid_levels, region_embeddings,
                      shared_feature_embeddings)
from .runner import (ImageReadError, ShardLog, merge_shards, parse_shard,
                     read_image, report_path, run_shard, shard_images,
                     shard_path)
from .scoring import (DEFAULT_PL_NMS_IOU, assign_labels, class_probabilities,
                      combine_scales, confidence, fuse_scores,
                      threshold_and_nms)
from .ssod_splits import make_ssod_splits, ssod_split
from .teacher import Detections, load_teacher_labels

__all__ = [
    'generate_pseudo_labels', 'generate_pseudo_labels_parallel',
    'resolve_targets', 'TAU', 'VLPLM',
    'ImageResult', 'VLPLMSettings', 'fuse_and_select', 'target_category_ids',
    'BACKGROUND_TEXT', 'DEFAULT_LABEL_SPACE', 'LABEL_SPACES', 'LabelSpace',
    'build_label_space', 'label_space_embeddings', 'REFINE_ITERS',
    'RPN_NMS_IOU', 'RPN_TOPK', 'Proposals', 'load_proposal_generator',
    'propose', 'refine_boxes', 'rpn_proposals', 'draw_pseudo_labels',
    'pseudo_label_quality', 'REGION_MODES', 'multiscale_feature_embeddings',
    'pyramid_levels', 'region_embeddings', 'shared_feature_embeddings',
    'ImageReadError', 'ShardLog', 'merge_shards', 'parse_shard',
    'read_image', 'report_path', 'run_shard', 'shard_images', 'shard_path',
    'DEFAULT_PL_NMS_IOU', 'assign_labels', 'class_probabilities',
    'combine_scales', 'confidence', 'fuse_scores', 'threshold_and_nms',
    'make_ssod_splits', 'ssod_split', 'Detections', 'load_teacher_labels',
]
