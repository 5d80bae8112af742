# VL-PLM's class-agnostic proposal generator (Sec. 3.2): mmdet's Mask R-CNN
# R50-FPN with one "object" class (the pipeline maps every label to it with
# ClassAgnosticLabels), class-agnostic box regression and mask, and up to 1000
# unthresholded detections per image for the recall evaluation
# (AR@100/300/1000). Dataset configs add the pipeline and the proposal metric.
_base_ = 'mmdet::_base_/models/mask-rcnn_r50_fpn.py'

custom_imports = dict(imports=['ovd_ext'], allow_failed_imports=False)

model = dict(
    roi_head=dict(
        bbox_head=dict(num_classes=1, reg_class_agnostic=True),
        mask_head=dict(num_classes=1, class_agnostic=True)),
    test_cfg=dict(rcnn=dict(score_thr=0.0, max_per_img=1000)))
