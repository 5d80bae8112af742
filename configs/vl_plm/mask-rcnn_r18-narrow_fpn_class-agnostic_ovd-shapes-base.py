# VL-PLM class-agnostic proposal generator on OVD-Shapes (Sec. 3.2): the
# CPU-sized narrow-R18 Mask R-CNN of the base-only baseline, trained on the 15
# base classes' annotations (novel ones dropped) with every label mapped to one
# "object" class (ClassAgnosticLabels) and a standard linear classifier.
# Validation reports class-agnostic box recall (AR@100/300/1000) on all 20
# classes; tools/gen_pseudo_labels.py then runs its RPN (NMS 0.3, top 1000) and
# refines boxes with its RoI head 10 times.
_base_ = '../ov_baselines/mask-rcnn_r18-narrow_fpn_clip-head_ovd-shapes.py'

model = dict(
    roi_head=dict(
        bbox_head=dict(
            _delete_=True,
            type='Shared2FCBBoxHead',
            in_channels=64,
            fc_out_channels=256,
            roi_feat_size=7,
            num_classes=1,
            bbox_coder=dict(
                type='DeltaXYWHBBoxCoder',
                target_means=[0., 0., 0., 0.],
                target_stds=[0.1, 0.1, 0.2, 0.2]),
            reg_class_agnostic=True,
            loss_cls=dict(
                type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
            loss_bbox=dict(type='L1Loss', loss_weight=1.0))),
    # detections for the recall evaluation: no score threshold, up to 1000
    test_cfg=dict(rcnn=dict(score_thr=0.0, max_per_img=1000)))

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='ClassAgnosticLabels'),
    dict(type='Resize', scale=(192, 192), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_evaluator = dict(
    _delete_=True,
    type='CocoMetric',
    ann_file='data/ovd_shapes/annotations/instances_val.json',
    metric='proposal',
    proposal_nums=(100, 300, 1000),
    backend_args=None)
test_evaluator = val_evaluator
