# DITO on OV-LVIS v1 (rare = novel), ViT-B/16 (open_clip laion2b weights from
# a local file), the full method: REP-initialised heads (`load_from` a
# dito_vit-b16_rep_image-text.py checkpoint), shifted-window learning and
# frozen-backbone distillation (Table 1 / 4a). Paper settings (Sec. 4,
# detection finetuning setup): 1024 x 1024 images, window grid 4 x 4
# (window 16 patches), 4 global blocks, backbone lr 0.6x the heads', SGD with
# momentum 0.9, batch 128, lr 0.18, 36.8k iterations, alpha 0.3 / beta 0.65.
# Scale the batch with auto_scale_lr (here 8 GPUs x 2 images = 16).
_base_ = [
    '../_base_/models/mask-rcnn_vit-b16_simple-fpn_dito.py',
    '../_base_/datasets/ov_lvis_v1_instance.py',
    'mmdet::_base_/default_runtime.py'
]

lvis_train_json = 'data/lvis_v1/annotations/lvis_v1_train.json'
vocabulary = 'data/lvis_v1/embeddings/lvis-v1-1203+background_vit-b16.npy'
vocabulary_background = True
image_size = (1024, 1024)
# load_from = 'work_dirs/dito_vit-b16_rep_image-text/iter_30000.pth'

model = dict(
    backbone=dict(shifted=True),
    distill=dict(loss_weight=1.0),
    roi_head=dict(
        bbox_head=dict(vocabulary=vocabulary,
                       novel_classes=lvis_train_json)),
    test_cfg=dict(rcnn=dict(score_thr=0.0001, max_per_img=300)))

# ViTDet's large-scale jitter at 1024, padded to a square
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
                        dataset=dict(dataset=dict(pipeline=train_pipeline)))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

max_iters = 36800
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters,
                 val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.18, momentum=0.9, weight_decay=1e-4),
    paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.6)}),
    clip_grad=dict(max_norm=1.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
         end=1000),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=0, end=max_iters,
         T_max=max_iters, eta_min=0.0)
]
auto_scale_lr = dict(enable=True, base_batch_size=128)
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=4000,
                    max_keep_ckpts=2))
log_processor = dict(by_epoch=False)
