# VL-PLM class-agnostic proposal generator for SSOD (Sec. 4.2: "a
# class-agnostic Faster R-CNN ... trained on the different COCO splits"): the
# Supervised recipe on the labeled 10 % with one "object" class.
_base_ = './faster-rcnn_r50_fpn_90k_coco-ssod-10pct_supervised.py'

model = dict(
    roi_head=dict(bbox_head=dict(num_classes=1, reg_class_agnostic=True)),
    test_cfg=dict(rcnn=dict(score_thr=0.0, max_per_img=1000)))
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='ClassAgnosticLabels'),
    dict(type='Resize', scale=(1333, 800), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_evaluator = dict(
    metric='proposal', proposal_nums=(100, 300, 1000))
test_evaluator = val_evaluator
