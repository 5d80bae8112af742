# Base-only open-vocabulary baseline on OV-COCO (48 base / 17 novel):
# Faster R-CNN R50-FPN + CLIPBBoxHead over CLIP RN50 text embeddings of the 65
# classes. Novel classes are dropped from the data and masked out of the loss;
# at test time they are scored like base classes. Loss: RegionCLIP's transfer
# setting on COCO (background weight 0.2, focal scaling gamma 0.5; the model
# base's default).
_base_ = [
    '../_base_/models/faster-rcnn_r50_fpn_clip-head.py',
    '../_base_/datasets/ov_coco_detection.py',
    '../_base_/vlm/clip_rn50-openai.py',
    'mmdet::_base_/schedules/schedule_1x.py',
    'mmdet::_base_/default_runtime.py'
]

# Made from the `clip` of the base (tools/embed_vocabulary.py).
vocabulary = 'data/coco/embeddings/ov-coco-65_clip-rn50.npy'

model = dict(
    roi_head=dict(
        bbox_head=dict(
            vocabulary=vocabulary,
            novel_classes={{_base_.ov_coco_novel_classes}})))
