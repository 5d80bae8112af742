# VL-PLM's class-agnostic proposal generator for SSOD on OVD-Shapes (Sec. 4.2:
# "a class-agnostic Faster R-CNN ... trained on the different COCO splits"):
# the Supervised recipe on the labeled 10 % with every label mapped to one
# "object" class. Validation reports class-agnostic box recall
# (AR@100/300/1000); the VL-PLM labeler of
# faster-rcnn_r18-narrow_fpn_ovd-shapes-ssod-10pct_supervised-vl-plm.py runs its
# RPN and refines boxes with its RoI head.
_base_ = './faster-rcnn_r18-narrow_fpn_ovd-shapes-ssod-10pct_supervised.py'

model = dict(
    roi_head=dict(bbox_head=dict(num_classes=1, reg_class_agnostic=True)),
    # detections for the recall evaluation: no score threshold, up to 1000
    test_cfg=dict(rcnn=dict(score_thr=0.0, max_per_img=1000)))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='ClassAgnosticLabels'),
    dict(type='Resize', scale={{_base_.image_scale}}, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_evaluator = dict(metric='proposal', proposal_nums=(100, 300, 1000))
test_evaluator = val_evaluator
