# XPM teacher on OV-COCO (Sec. 3.2.1, 4.1): Mask R-CNN R50-FPN on the 48 base
# classes with the embedding head (CLIPBBoxHead: cosine scores against the
# class word embeddings, zero background embedding) and a class-agnostic mask
# head; cross-entropy with the background weight 0.2 ("similar to [28]"),
# no focal scaling. It is the OV-COCO Mask R-CNN baseline with that loss.
# Differences from the paper, by choice: word embeddings are CLIP RN50 text
# embeddings (the paper: BERT), the backbone starts from ImageNet weights
# (the paper first pretrains it on COCO Captions following OVR-CNN [28],
# a step of OVR, not of XPM) and the schedule is mmdet's 1x (the paper:
# 90k iterations of 8 images at lr 0.001 after the pretraining).
# Test: base / novel AP50 (box and mask), generalized and constrained.
_base_ = '../ov_baselines/mask-rcnn_r50_fpn_clip-head_1x_ov-coco.py'

model = dict(
    roi_head=dict(
        bbox_head=dict(
            loss_cls=dict(
                type='FocalScaledCrossEntropyLoss',
                bg_weight=0.2,
                focal_gamma=0.0))))
val_evaluator = dict(type='OVDCocoMetric', metric=['bbox', 'segm'],
                     constrained=True)
test_evaluator = val_evaluator
