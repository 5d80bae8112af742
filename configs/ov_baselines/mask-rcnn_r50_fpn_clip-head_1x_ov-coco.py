# Mask R-CNN variant of the OV-COCO base-only baseline (box + mask AP50).
_base_ = [
    '../_base_/models/mask-rcnn_r50_fpn_clip-head.py',
    '../_base_/datasets/ov_coco_instance.py',
    '../_base_/vlm/clip_rn50-openai.py',
    'mmdet::_base_/schedules/schedule_1x.py',
    'mmdet::_base_/default_runtime.py'
]

vocabulary = 'data/coco/embeddings/ov-coco-65_clip-rn50.npy'

model = dict(
    roi_head=dict(
        bbox_head=dict(
            vocabulary=vocabulary,
            novel_classes={{_base_.ov_coco_novel_classes}})))
