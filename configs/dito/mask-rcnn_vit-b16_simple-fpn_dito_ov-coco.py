# DITO on OV-COCO (48 base / 17 novel; novel AP50 is the metric), ViT-B/16,
# REP-initialised heads (`load_from`), SWL and frozen-backbone distillation.
# Paper (Sec. 4): 1024 px, SGD momentum 0.9, batch 128, lr 0.02, 11.3k
# iterations, backbone lr 0.6x; alpha 0.3 / beta 0.65.
_base_ = [
    '../_base_/models/mask-rcnn_vit-b16_simple-fpn_dito.py',
    '../_base_/datasets/ov_coco_instance.py',
    'mmdet::_base_/default_runtime.py'
]

vocabulary = 'data/coco/embeddings/ov-coco-65+background_vit-b16.npy'
vocabulary_background = True
image_size = (1024, 1024)
# load_from = 'work_dirs/dito_vit-b16_rep_image-text/iter_30000.pth'

model = dict(
    backbone=dict(shifted=True),
    distill=dict(loss_weight=1.0),
    roi_head=dict(
        bbox_head=dict(vocabulary=vocabulary,
                       novel_classes={{_base_.ov_coco_novel_classes}})))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='RandomResize', scale=image_size, ratio_range=(0.1, 2.0),
         keep_ratio=True),
    dict(type='RandomCrop', crop_type='absolute_range', crop_size=image_size,
         recompute_bbox=True, allow_negative_crop=True),
    dict(type='FilterAnnotations', min_gt_bbox_wh=(1e-2, 1e-2)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='Pad', size=image_size, pad_val=dict(img=(114, 114, 114))),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=image_size, keep_ratio=True),
    dict(type='Pad', size=image_size, pad_val=dict(img=(114, 114, 114))),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor'))
]
train_dataloader = dict(batch_size=2, num_workers=4,
                        dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

max_iters = 11300
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters,
                 val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=1e-4),
    paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.6)}),
    clip_grad=dict(max_norm=1.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
         end=500),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=0, end=max_iters,
         T_max=max_iters, eta_min=0.0)
]
auto_scale_lr = dict(enable=True, base_batch_size=128)
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=2000,
                    max_keep_ckpts=2))
log_processor = dict(by_epoch=False)
