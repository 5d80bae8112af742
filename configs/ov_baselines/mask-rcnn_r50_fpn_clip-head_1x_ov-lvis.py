# Base-only open-vocabulary baseline on OV-LVIS v1 (rare = novel):
# Mask R-CNN R50-FPN + CLIPBBoxHead over CLIP RN50 text embeddings of the 1203
# LVIS classes, repeat-factor sampling, and Detic's federated sigmoid loss
# (50 classes per iteration, image-frequency^0.5 sampling; novel never sampled).
# RegionCLIP's softmax alternative: loss_cls=dict(
#     type='FocalScaledCrossEntropyLoss', bg_weight=0.8, focal_gamma=0.0).
_base_ = [
    '../_base_/models/mask-rcnn_r50_fpn_clip-head.py',
    '../_base_/datasets/ov_lvis_v1_instance.py',
    '../_base_/vlm/clip_rn50-openai.py',
    'mmdet::_base_/schedules/schedule_1x.py',
    'mmdet::_base_/default_runtime.py'
]

lvis_train_json = 'data/lvis_v1/annotations/lvis_v1_train.json'
vocabulary = 'data/lvis_v1/embeddings/lvis-v1-1203_clip-rn50.npy'

model = dict(
    roi_head=dict(
        bbox_head=dict(
            vocabulary=vocabulary,
            novel_classes=lvis_train_json,  # its rare classes are novel
            loss_cls=dict(
                _delete_=True,
                type='FederatedSigmoidLoss',
                class_frequency=lvis_train_json,
                num_sample_classes=50,
                freq_weight_power=0.5))),
    # LVIS keeps up to 300 detections per image
    test_cfg=dict(rcnn=dict(score_thr=0.0001, max_per_img=300)))
