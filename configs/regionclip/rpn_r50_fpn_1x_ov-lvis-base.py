# RegionCLIP's region proposal network for LVIS (Sec. 4 (implementation
# details)): mmdet's RPN R50-FPN (ImageNet ResNet-50, 1x = 12 epochs, SGD 0.02,
# batch 16 = 8 GPUs x 2) on the boxes of the 866 LVIS v1 base classes (frequent
# + common; OVLVISV1Dataset drop_novel=True removes the 337 rare = novel
# classes), with mmdet's repeat-factor sampling (t = 1e-3) as in the LVIS
# dataset base.
# It serves three uses, as in the paper:
#   * pretraining regions ("RPN used in pretraining was trained with the base
#     categories of LVIS dataset"): the *_dump-proposals_*.py configs;
#   * zero-shot inference ("RPN was the same as pretraining stage"), on COCO
#     and LVIS: zero-shot_rn50-c4_rpn_ov-{coco,lvis}.py;
#   * the frozen offline RPN of the OV-LVIS transfer detectors.
#
# Where we differ: the official RPNs are detectron2 Mask R-CNN R50-FPN
# RPNs: rpn_lvis_866.pth (1x, pretraining / zero-shot) and rpn_lvis_866_lsj
# (large-scale jittering, 400 epochs, SyncBN FPN, two RPN convs; LVIS
# transfer). Here one box-only mmdet R50-FPN RPN, 1x, for all three uses.
#
# Validation: class-agnostic recall AR@100/300/1000 on all 1203 classes.
#
# Local files (nothing is downloaded):
#   data/lvis_v1/annotations/lvis_v1_{train,val}.json,
#   data/lvis_v1/{train,val}2017/ (the COCO 2017 images, as mmdet expects)
#   checkpoints/torchvision/resnet50-0676ba61.pth (see rpn_r50_fpn_1x_ov-coco-base.py)
# Train / then copy the last checkpoint to the path the other configs read:
#   bash tools/dist_train.sh configs/regionclip/rpn_r50_fpn_1x_ov-lvis-base.py 8
#   cp work_dirs/rpn_r50_fpn_1x_ov-lvis-base/epoch_12.pth \
#      checkpoints/regionclip/rpn_r50_fpn_1x_ov-lvis-base.pth
_base_ = [
    'mmdet::_base_/models/rpn_r50_fpn.py',
    '../_base_/datasets/ov_lvis_v1_instance.py',
    'mmdet::_base_/schedules/schedule_1x.py',
    'mmdet::_base_/default_runtime.py'
]
custom_imports = dict(imports=['ovd_ext'], allow_failed_imports=False)
resnet50_imagenet = 'checkpoints/torchvision/resnet50-0676ba61.pth'

model = dict(
    backbone=dict(
        init_cfg=dict(type='Pretrained', checkpoint=resnet50_imagenet)),
    test_cfg=dict(rpn=dict(nms_pre=2000, max_per_img=1000,
                           nms=dict(type='nms', iou_threshold=0.7),
                           min_bbox_size=0)))

# boxes only (the dataset base loads masks for Mask R-CNN); mmdet's LVIS
# multi-scale training (short side 640-800)
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='RandomChoiceResize',
         scales=[(1333, 640), (1333, 672), (1333, 704), (1333, 736),
                 (1333, 768), (1333, 800)],
         keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='Resize', scale=(1333, 800), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor'))
]
train_dataloader = dict(dataset=dict(dataset=dict(pipeline=train_pipeline)))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

val_evaluator = dict(
    _delete_=True,
    type='LVISMetric',
    ann_file='data/lvis_v1/annotations/lvis_v1_val.json',
    metric='proposal',
    proposal_nums=(100, 300, 1000),
    backend_args=None)
test_evaluator = val_evaluator
