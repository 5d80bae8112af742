# DITO region-centric pretraining (REP, Sec. 3.2) on OVD-Shapes: the tiny
# ViT CLIP (ovd-tiny-vit) frozen, image and text; SimpleFPN (LN), RoIAlign,
# the Faster R-CNN box head (shared FCs + text projection) and the RPN
# objectness conv learn from the training images and their captions alone
# (no boxes): 400 / 200 / 100 / 50 random boxes on P2..P5, max-pooled RoI
# embeddings per level, per-level image-text contrastive loss, RPN target
# max(0, cos) at the RoI centres. Module names equal the detector's, so
# `load_from` this checkpoint initialises the DITO detector's heads.
#
# Choices where our setting differs from the paper's (ViT-L, 256 px REP
# after 224 px CLIP pretraining, then 1024 px detection):
# - REP runs at the detector's 256 px with the detector's window layout
#   (window 8 = the tiny CLIP's 64 px pretraining grid), so the heads learn
#   on the features they will see in finetuning.
# - AdamW, lr 1e-3 with linear decay (paper: 1e-4 over 30k iterations of
#   batch 4k), 300 iterations of 8 images (1.2 epochs of the 2,000
#   captioned images; 1.6 s per iteration on 2 CPU cores).
# - RoIAlign with 2 x 2 samples per bin (mmdet's adaptive default made
#   RoIAlign 78% of the step time with 750 boxes per image), the same in
#   the detector's box branch.
_base_ = 'mmdet::_base_/default_runtime.py'
custom_imports = dict(imports=['ovd_ext'], allow_failed_imports=False)

clip = dict(type='OpenCLIP', name='ovd-tiny-vit',
            checkpoint='checkpoints/ovd_shapes/ovd-tiny-vit.pt')
vocabulary = 'data/ovd_shapes/embeddings/ovd-shapes-20+background_tiny-vit.npy'
vocabulary_background = True
# the vocabulary only builds the box head (its classes are unused here)
image_scale = (256, 256)

model = dict(
    type='RegionCentricPretrainer',
    clip=clip,
    backbone=dict(type='WindowedCLIPViT', clip=clip, window_size=8,
                  num_global=1),
    neck=dict(type='SimpleFPN', in_channels=128, out_channels=64,
              scale_factors=(2.0, 1.0, 0.5, 0.25), num_outs=5,
              norm_cfg=dict(type='LN2d')),
    rpn_head=dict(
        type='RPNHead',
        in_channels=64,
        feat_channels=64,
        anchor_generator=dict(type='AnchorGenerator', scales=[4],
                              ratios=[0.5, 1.0, 2.0],
                              strides=[4, 8, 16, 32, 64]),
        bbox_coder=dict(type='DeltaXYWHBBoxCoder',
                        target_means=[.0, .0, .0, .0],
                        target_stds=[1.0, 1.0, 1.0, 1.0])),
    roi_head=dict(
        bbox_roi_extractor=dict(
            type='SingleRoIExtractor',
            roi_layer=dict(type='RoIAlign', output_size=7, sampling_ratio=2),
            out_channels=64,
            featmap_strides=[4, 8, 16, 32]),
        bbox_head=dict(
            type='CLIPBBoxHead',
            in_channels=64,
            fc_out_channels=256,
            roi_feat_size=7,
            vocabulary=vocabulary,
            bg_embedding='text')),
    num_boxes=(400, 200, 100, 50),
    size_range=(0.2, 0.5),
    aspect_range=(0.5, 2.0),
    loss_weights=dict(contrastive=1.0, rpn=1.0),
    data_preprocessor=dict(type='DetDataPreprocessor',
                           mean=[122.7709383, 116.7460125, 104.09373615],
                           std=[68.5005327, 66.6321579, 70.32316305],
                           bgr_to_rgb=True, pad_size_divisor=64))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomCaption'),
    dict(type='Resize', scale=image_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor', 'flip', 'flip_direction', 'caption'))
]
train_dataloader = dict(
    batch_size=8,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='CaptionDataset',
        ann_file='data/ovd_shapes/annotations/captions_train.json',
        data_prefix=dict(img='data/ovd_shapes/images/'),
        pipeline=train_pipeline))

max_iters = 300
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters,
                 val_interval=max_iters + 1)
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05),
    clip_grad=dict(max_norm=10.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
    dict(type='LinearLR', start_factor=1.0, end_factor=0.01, by_epoch=False,
         begin=50, end=max_iters)
]
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=25),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=max_iters,
                    max_keep_ckpts=1))
log_processor = dict(by_epoch=False)
randomness = dict(seed=0)
env_cfg = dict(cudnn_benchmark=False)
