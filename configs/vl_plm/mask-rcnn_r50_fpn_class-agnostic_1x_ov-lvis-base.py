# VL-PLM class-agnostic proposal generator for OV-LVIS v1 (supplement A.1):
# Mask R-CNN R50-FPN on the frequent + common (base) annotations, rare (novel)
# annotations dropped, one "object" class (ClassAgnosticLabels), repeat-factor
# sampling as the LVIS baselines. Validation: class-agnostic AR@100/300/1000.
_base_ = [
    '../_base_/models/mask-rcnn_r50_fpn_class-agnostic.py',
    '../_base_/datasets/ov_lvis_v1_instance.py',
    'mmdet::_base_/schedules/schedule_1x.py',
    'mmdet::_base_/default_runtime.py'
]

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='ClassAgnosticLabels'),
    dict(type='Resize', scale=(1333, 800), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
train_dataloader = dict(dataset=dict(dataset=dict(pipeline=train_pipeline)))
val_evaluator = dict(
    _delete_=True,
    type='CocoMetric',
    ann_file='data/lvis_v1/annotations/lvis_v1_val.json',
    metric='proposal',
    proposal_nums=(100, 300, 1000),
    backend_args=None)
test_evaluator = val_evaluator
