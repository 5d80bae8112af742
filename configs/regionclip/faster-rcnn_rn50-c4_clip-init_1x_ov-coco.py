# RegionCLIP transfer to open-vocabulary detection on OV-COCO (Sec. 3.3,
# Sec. 4.1, Table 1), the baseline row "CLIP CLIP400M RN50 / Ours RN50-C4"
# (paper: generalized AP50 novel 14.2, base 52.8, all 42.7): the detector
# initialised from plain OpenAI CLIP RN50. The RegionCLIP row
# (faster-rcnn_rn50-c4_regionclip-init_1x_ov-coco.py, paper 31.4 / 57.1 /
# 50.4) differs only in the image tower.
#
# Faster R-CNN ResNet50-C4 over the CLIP ModifiedResNet, mmdet's C4 layout:
# stem..layer3 is the backbone (CLIPResNet, C4 = stride 16, 1024 channels; stem
# and layer1 frozen = detectron2 FREEZE_AT 2, BatchNorm frozen), RoIAlign 14x14
# on C4, then layer4 (-> 7x7) and the attention pool as the shared RoI head
# (CLIPResLayer4Head); CLIPEmbeddingBBoxHead: no FC, no projection (the pooled
# 1024-d region embedding IS the CLIP embedding), cosine logits at 1/tau = 100
# against the 65 class text embeddings, an all-zero background embedding with
# loss weight 0.2 and focal scaling gamma 0.5 on the base classes (the COCO
# values of Sec. 4 (implementation details)), class-agnostic box regression
# (detectron2 weights 10, 10, 5, 5 = target_stds 0.1, 0.1, 0.2, 0.2). Trained
# on the 48 base classes (novel annotations dropped, novel logits masked out of
# the loss); tested on all 65.
# Proposals: the frozen offline R50-FPN RPN trained on the base classes
# (rpn_r50_fpn_1x_ov-coco-base.py; Sec. 4 (implementation details): "RPN
# used in transfer learning was trained by the base categories of target
# dataset"), its own ImageNet mean / std; NMS 0.7, 1000 per image in
# training and testing.
# Schedule (Sec. 4 (implementation details)): SGD, batch 16 (8 GPUs x 2), lr
# 0.002, 1x = 90k iterations; from the official config: lr x0.1 at 60k and 80k,
# 5k-iteration warm-up, weight decay 1e-4, short side 640..800 (long <= 1333)
# in training, 800 in testing, score threshold 0.001.
# Where we differ: the offline RPN is an mmdet R50-FPN (the official one is
# detectron2's R50-C4 RPN of a base-class Mask R-CNN, rpn_coco_48.pth; see
# faster-rcnn_rn50-c4_regionclip-official_ov-coco.py for that layout).
#
# Local files (nothing is downloaded):
#   checkpoints/clip/RN50-openai.pt (../_base_/vlm/clip_rn50-openai.py;
#     configs/ov_baselines/README.md says how to get it);
#   data/coco/ as configs/ov_baselines/README.md;
#   the 65-class vocabulary (the OV baselines' file):
#     python tools/embed_vocabulary.py --config configs/regionclip/faster-rcnn_rn50-c4_clip-init_1x_ov-coco.py
#   checkpoints/regionclip/rpn_r50_fpn_1x_ov-coco-base.pth (train
#     rpn_r50_fpn_1x_ov-coco-base.py; only needed for training: a trained
#     detector's checkpoint carries the RPN's weights).
_base_ = [
    '../_base_/datasets/ov_coco_detection.py',
    '../_base_/vlm/clip_rn50-openai.py',
    'mmdet::_base_/default_runtime.py'
]
custom_imports = dict(imports=['ovd_ext'], allow_failed_imports=False)
custom_hooks = [dict(type='VocabularyCheckHook')]

clip = dict(type='OpenCLIP', name={{_base_.clip.name}},
            checkpoint={{_base_.clip.checkpoint}},
            templates={{_base_.clip.templates}})
vocabulary = 'data/coco/embeddings/ov-coco-65_clip-rn50.npy'
# OpenAI CLIP normalisation in 0-255, RGB (the detector); ImageNet
# normalisation for the offline RPN (mmdet's pytorch-style ResNet)
clip_mean = [122.7709383, 116.7460125, 104.09373615]
clip_std = [68.5005327, 66.6321579, 70.32316305]

model = dict(
    type='OfflineRPNDetector',
    data_preprocessor=dict(type='DetDataPreprocessor', mean=clip_mean,
                           std=clip_std, bgr_to_rgb=True, pad_size_divisor=32),
    backbone=dict(type='CLIPResNet', clip=clip, frozen_stages=2,
                  norm_eval=True),
    offline_rpn=dict(
        type='RPN',
        data_preprocessor=dict(type='DetDataPreprocessor',
                               mean=[123.675, 116.28, 103.53],
                               std=[58.395, 57.12, 57.375], bgr_to_rgb=True,
                               pad_size_divisor=32),
        backbone=dict(type='ResNet', depth=50, num_stages=4,
                      out_indices=(0, 1, 2, 3), frozen_stages=1,
                      norm_cfg=dict(type='BN', requires_grad=True),
                      norm_eval=True, style='pytorch'),
        neck=dict(type='FPN', in_channels=[256, 512, 1024, 2048],
                  out_channels=256, num_outs=5),
        rpn_head=dict(
            type='RPNHead', in_channels=256, feat_channels=256,
            anchor_generator=dict(type='AnchorGenerator', scales=[8],
                                  ratios=[0.5, 1.0, 2.0],
                                  strides=[4, 8, 16, 32, 64]),
            bbox_coder=dict(type='DeltaXYWHBBoxCoder',
                            target_means=[.0, .0, .0, .0],
                            target_stds=[1.0, 1.0, 1.0, 1.0]),
            loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=True,
                          loss_weight=1.0),
            loss_bbox=dict(type='L1Loss', loss_weight=1.0)),
        train_cfg=None,
        # mmdet's RPN wants one; OfflineRPNDetector uses proposal_cfg
        test_cfg=dict(rpn=dict(nms_pre=1000, max_per_img=1000,
                               nms=dict(type='nms', iou_threshold=0.7),
                               min_bbox_size=0))),
    offline_rpn_checkpoint='checkpoints/regionclip/rpn_r50_fpn_1x_ov-coco-base.pth',
    # detectron2 FPN RPN: 1000 per level before NMS, 1000 after
    proposal_cfg=dict(
        train=dict(nms_pre=1000, max_per_img=1000,
                   nms=dict(type='nms', iou_threshold=0.7), min_bbox_size=0),
        test=dict(nms_pre=1000, max_per_img=1000,
                  nms=dict(type='nms', iou_threshold=0.7), min_bbox_size=0)),
    roi_head=dict(
        type='StandardRoIHead',
        shared_head=dict(type='CLIPResLayer4Head', clip=clip, norm_eval=True),
        # 14x14 on C4 = twice the attention pool's 7x7 grid (RN50 at 224)
        bbox_roi_extractor=dict(
            type='SingleRoIExtractor',
            roi_layer=dict(type='RoIAlign', output_size=14, sampling_ratio=0,
                           aligned=True),
            out_channels=1024, featmap_strides=[16]),
        bbox_head=dict(
            type='CLIPEmbeddingBBoxHead',
            vocabulary=vocabulary,
            novel_classes={{_base_.ov_coco_novel_classes}},
            in_channels=1024, projection='none',
            logit_scale=100.0, bg_embedding='zero',
            reg_class_agnostic=True,
            bbox_coder=dict(type='DeltaXYWHBBoxCoder',
                            target_means=[0., 0., 0., 0.],
                            target_stds=[0.1, 0.1, 0.2, 0.2]),
            loss_cls=dict(type='FocalScaledCrossEntropyLoss',
                          focal_gamma=0.5, bg_weight=0.2),
            loss_bbox=dict(type='L1Loss', loss_weight=1.0))),
    # detectron2's ROI_HEADS defaults: 512 RoIs per image, 25% positive
    train_cfg=dict(
        rcnn=dict(
            assigner=dict(type='MaxIoUAssigner', pos_iou_thr=0.5,
                          neg_iou_thr=0.5, min_pos_iou=0.5,
                          match_low_quality=False, ignore_iof_thr=-1),
            sampler=dict(type='RandomSampler', num=512, pos_fraction=0.25,
                         neg_pos_ub=-1, add_gt_as_proposals=True),
            pos_weight=-1, debug=False)),
    test_cfg=dict(
        rcnn=dict(score_thr=0.001, nms=dict(type='nms', iou_threshold=0.5),
                  max_per_img=100)))

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
train_dataloader = dict(batch_size=2, num_workers=2,
                        dataset=dict(pipeline=train_pipeline))

# Sec. 4 (implementation details): SGD, batch 16, lr 0.002, 1x (90k
# iterations)
max_iters = 90000
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters,
                 val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.002, momentum=0.9, weight_decay=1e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
         end=5000),
    dict(type='MultiStepLR', by_epoch=False, begin=0, end=max_iters,
         milestones=[60000, 80000], gamma=0.1)
]
auto_scale_lr = dict(enable=False, base_batch_size=16)
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=10000,
                    max_keep_ckpts=2))
log_processor = dict(by_epoch=False)
