# RegionCLIP's region proposal network for OV-COCO (Sec. 4 (implementation
# details): "RPN used in transfer learning was trained by the base categories
# of target dataset"): mmdet's RPN R50-FPN (ImageNet ResNet-50, 1x = 12 epochs,
# SGD 0.02, batch 16 = 8 GPUs x 2) on the boxes of the 48 base classes only
# (OVCocoDataset drop_novel=True: novel annotations removed, images left empty
# dropped). It is the frozen offline RPN of the OV-COCO transfer detectors
# (faster-rcnn_rn50-c4_*_1x_ov-coco.py).
#
# Where we differ: the official RPN for COCO (rpn_coco_48.pth) is the RPN of
# a detectron2 Mask R-CNN R50-C4 (caffe ResNet, 15 anchors at stride 16)
# trained on the base classes with its box/mask heads; here a box-only mmdet
# R50-FPN RPN (mmdet's stock recipe), so it trains in mmdet. The official
# layout is kept for converted checkpoints in
# faster-rcnn_rn50-c4_regionclip-official_ov-coco.py.
#
# Validation: class-agnostic recall AR@100/300/1000 on all 65 OV-COCO
# classes (base and novel boxes of instances_val2017.json).
#
# Local files (nothing is downloaded):
#   data/coco/annotations/instances_{train,val}2017.json, data/coco/{train,val}2017/
#   checkpoints/torchvision/resnet50-0676ba61.pth: torchvision's ImageNet
#     ResNet-50 (ResNet50_Weights.IMAGENET1K_V1, the file mmdet's
#     'torchvision://resnet50' names), saved on a machine with internet access.
# Train / then copy the last checkpoint to the path the transfer configs read:
#   bash tools/dist_train.sh configs/regionclip/rpn_r50_fpn_1x_ov-coco-base.py 8
#   cp work_dirs/rpn_r50_fpn_1x_ov-coco-base/epoch_12.pth \
#      checkpoints/regionclip/rpn_r50_fpn_1x_ov-coco-base.pth
_base_ = [
    'mmdet::_base_/models/rpn_r50_fpn.py',
    '../_base_/datasets/ov_coco_detection.py',
    'mmdet::_base_/schedules/schedule_1x.py',
    'mmdet::_base_/default_runtime.py'
]
custom_imports = dict(imports=['ovd_ext'], allow_failed_imports=False)
resnet50_imagenet = 'checkpoints/torchvision/resnet50-0676ba61.pth'

model = dict(
    backbone=dict(
        init_cfg=dict(type='Pretrained', checkpoint=resnet50_imagenet)),
    # proposals for evaluation: NMS 0.7, up to 1000 per image (mmdet default)
    test_cfg=dict(rpn=dict(nms_pre=2000, max_per_img=1000,
                           nms=dict(type='nms', iou_threshold=0.7),
                           min_bbox_size=0)))

val_evaluator = dict(
    _delete_=True,
    type='CocoMetric',
    ann_file='data/coco/annotations/instances_val2017.json',
    metric='proposal',
    proposal_nums=(100, 300, 1000),
    backend_args=None)
test_evaluator = val_evaluator
