"""The key map of official RegionCLIP checkpoints (detectron2 names) to
ovd_ext's RegionCLIP detector: one rule per source pattern
(:data:`RULES`) and the keys dropped on purpose (:data:`DROPS`).

Key map (source -> target):

* ``backbone.{conv,bn}{1,2,3}``, ``backbone.layer{1,2,3}.*`` -> ``backbone.*``
  and ``backbone.layer4.*``, ``backbone.attnpool.*`` ->
  ``roi_head.shared_head.*``: RegionCLIP's ModifiedResNet uses open_clip's
  names (``downsample.0`` conv, ``downsample.1`` norm); its FrozenBN has no
  ``num_batches_tracked``, which is added as 0.
* ``roi_heads.box_predictor.bbox_pred.*`` ([4, D], class agnostic) ->
  ``roi_head.bbox_head.fc_reg.*``.
* ``roi_heads.box_predictor.cls_score.weight`` ([C, D] class text embeddings,
  scores are cos(v, l_c) / tau, Eq. 1 and 3) is not loaded: the classifier
  reads a vocabulary ``.npy``; it can be exported (:func:`classifier_rows`).
  ``cls_bg_score.weight`` (the fixed all-zero background embedding, Sec. 4)
  is dropped after checking it is zero.
* Offline RPN (detectron2 R50, ``STRIDE_IN_1X1`` = mmdet ``style='caffe'``):
  ``offline_backbone.[bottom_up.]stem.conv1`` -> ``offline_rpn.backbone.conv1``
  / ``bn1``, ``res{s}.{i}.conv{k}[.norm]`` -> ``layer{s-1}.{i}.conv{k}`` /
  ``bn{k}``, ``shortcut[.norm]`` -> ``downsample.0`` / ``downsample.1``,
  ``fpn_lateral{s}`` / ``fpn_output{s}[.norm]`` -> ``offline_rpn.neck.
  lateral_convs`` / ``fpn_convs.{s-2}.conv`` (``.bn``), and
  ``offline_proposal_generator.rpn_head.{conv,objectness_logits,
  anchor_deltas}`` -> ``offline_rpn.bbox_head.{rpn_conv,rpn_cls,rpn_reg}``
  (mmdet's ``RPN`` detector holds its ``RPNHead`` as ``bbox_head``;
  ``conv.conv{k}`` of the LSJ RPN -> ``rpn_conv.{k}.conv``).
* Dropped with a reason (:data:`DROPS`): teacher, text encoder, mask head.
"""
from __future__ import annotations

import re
from typing import Callable

CLS_SCORE = 'roi_heads.box_predictor.cls_score.weight'
CLS_BG_SCORE = 'roi_heads.box_predictor.cls_bg_score.weight'
BBOX_PRED = 'roi_heads.box_predictor.bbox_pred'
C_PROJ = 'backbone.attnpool.c_proj.weight'
RPN_SRC = 'offline_proposal_generator.rpn_head'
#: mmdet's ``RPN`` detector holds its RPNHead as ``bbox_head``.
RPN_DST = 'offline_rpn.bbox_head'
BN = r'(?P<leaf>weight|bias|running_mean|running_var|num_batches_tracked)'
OFF = r'offline_backbone\.(?:bottom_up\.)?'
CLIP_BLOCK = r'(?:layer[1-4]\.\d+\.)?'
#: number of dimensions by kind of layer and leaf name
NDIM = {'conv': {'weight': 4, 'bias': 1}, 'linear': {'weight': 2, 'bias': 1},
        'norm': {'num_batches_tracked': 0}, 'matrix': {}}


def _clip(m: re.Match) -> str:
    head = m['name'].startswith(('layer4', 'attnpool'))
    return ('roi_head.shared_head.' if head else 'backbone.') + \
        m.string[len('backbone.'):]


def _layer(m: re.Match) -> str:
    return f'offline_rpn.backbone.layer{int(m["s"]) - 1}.{m["i"]}'


def _fpn(m: re.Match) -> str:
    convs = 'lateral_convs' if m['kind'] == 'lateral' else 'fpn_convs'
    return f'offline_rpn.neck.{convs}.{int(m["s"]) - 2}'


#: (source pattern, target name of the match, kind of layer)
RULES: list[tuple[str, Callable[[re.Match], str], str]] = [
    (rf'backbone\.(?P<name>{CLIP_BLOCK}conv[123]|layer[1-4]\.\d+\.'
     r'downsample\.0)\.weight', _clip, 'conv'),
    (rf'backbone\.(?P<name>{CLIP_BLOCK}bn[123]|layer[1-4]\.\d+\.'
     rf'downsample\.1)\.{BN}', _clip, 'norm'),
    (r'backbone\.(?P<name>attnpool\.[qkvc]_proj)\.(?P<leaf>weight|bias)',
     _clip, 'linear'),
    (r'backbone\.(?P<name>attnpool)\.positional_embedding', _clip, 'matrix'),
    (rf'{BBOX_PRED}\.(?P<leaf>weight|bias)',
     lambda m: f'roi_head.bbox_head.fc_reg.{m["leaf"]}', 'linear'),
    (rf'{OFF}stem\.conv1\.weight',
     lambda m: 'offline_rpn.backbone.conv1.weight', 'conv'),
    (rf'{OFF}stem\.conv1\.norm\.{BN}',
     lambda m: f'offline_rpn.backbone.bn1.{m["leaf"]}', 'norm'),
    (rf'{OFF}res(?P<s>[2-5])\.(?P<i>\d+)\.conv(?P<k>[123])\.weight',
     lambda m: f'{_layer(m)}.conv{m["k"]}.weight', 'conv'),
    (rf'{OFF}res(?P<s>[2-5])\.(?P<i>\d+)\.conv(?P<k>[123])\.norm\.{BN}',
     lambda m: f'{_layer(m)}.bn{m["k"]}.{m["leaf"]}', 'norm'),
    (rf'{OFF}res(?P<s>[2-5])\.(?P<i>\d+)\.shortcut\.weight',
     lambda m: f'{_layer(m)}.downsample.0.weight', 'conv'),
    (rf'{OFF}res(?P<s>[2-5])\.(?P<i>\d+)\.shortcut\.norm\.{BN}',
     lambda m: f'{_layer(m)}.downsample.1.{m["leaf"]}', 'norm'),
    (r'offline_backbone\.fpn_(?P<kind>lateral|output)(?P<s>[2-5])\.'
     r'(?P<leaf>weight|bias)', lambda m: f'{_fpn(m)}.conv.{m["leaf"]}',
     'conv'),
    (rf'offline_backbone\.fpn_(?P<kind>lateral|output)(?P<s>[2-5])\.norm\.'
     rf'{BN}', lambda m: f'{_fpn(m)}.bn.{m["leaf"]}', 'norm'),
    (rf'{RPN_SRC}\.conv\.(?P<leaf>weight|bias)',
     lambda m: f'{RPN_DST}.rpn_conv.{m["leaf"]}', 'conv'),
    (rf'{RPN_SRC}\.conv\.conv(?P<k>\d+)\.(?P<leaf>weight|bias)',
     lambda m: f'{RPN_DST}.rpn_conv.{m["k"]}.conv.{m["leaf"]}', 'conv'),
    (rf'{RPN_SRC}\.objectness_logits\.(?P<leaf>weight|bias)',
     lambda m: f'{RPN_DST}.rpn_cls.{m["leaf"]}', 'conv'),
    (rf'{RPN_SRC}\.anchor_deltas\.(?P<leaf>weight|bias)',
     lambda m: f'{RPN_DST}.rpn_reg.{m["leaf"]}', 'conv'),
]
COMPILED_RULES = [(re.compile(p + '$'), f, k) for p, f, k in RULES]

#: (source pattern, reason) of keys dropped on purpose
DROPS: list[tuple[str, str]] = [
    (re.escape(CLS_SCORE), 'class text embeddings: the classifier reads a '
     'vocabulary .npy (--save-classifier exports them)'),
    (re.escape(CLS_BG_SCORE), 'all-zero background embedding: the cosine '
     'classifier has its own background logit'),
    (r'roi_heads\.box_predictor\.test_cls_score\.', 'open-set test text '
     'embeddings: use a vocabulary .npy'),
    (r'roi_heads\.mask_head\.', 'mask head: the detector is box-only'),
    (r'teacher_(backbone|roi_heads)\.', 'pretraining teacher V_t (Sec. 3.1), '
     'not part of the detector'),
    (r'lang_encoder\.', 'CLIP text encoder L: class embeddings come from a '
     'vocabulary .npy'),
    (r'(teacher_)?concept_emb$', 'pretraining concept-pool embeddings'),
    (r'(offline_)?pixel_(mean|std)$', 'input normalisation: set in the '
     'data preprocessors'),
]
COMPILED_DROPS = [(re.compile(p), r) for p, r in DROPS]
