# VL-PLM class-agnostic proposal generator for OV-COCO (Sec. 3.2 / 3.3): a
# Mask R-CNN R50-FPN trained on the 48 base classes' annotations only (novel
# annotations dropped), every label mapped to one "object" class by
# ClassAgnosticLabels, standard linear classifier (num_classes=1). The paper
# trains it 90k iterations at batch 16 (~ mmdet's 1x on COCO train2017).
# Validation: class-agnostic box recall AR@100/300/1000 (all val classes).
_base_ = [
    '../_base_/models/mask-rcnn_r50_fpn_class-agnostic.py',
    '../_base_/datasets/ov_coco_instance.py',
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
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_evaluator = dict(
    _delete_=True,
    type='CocoMetric',
    ann_file='data/coco/annotations/instances_val2017.json',
    metric='proposal',
    proposal_nums=(100, 300, 1000),
    backend_args=None)
test_evaluator = val_evaluator
