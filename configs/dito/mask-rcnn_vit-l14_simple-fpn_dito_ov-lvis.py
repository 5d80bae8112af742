# DITO on OV-LVIS v1 with an open_clip ViT-L/14 (the paper's ViT-L is /16;
# open_clip publishes /14). 1120 px images (80 x 80 patches) keep whole
# windows: window 20 = 1120 / 14 / 4, K = 4; global blocks 5, 11, 17, 23
# (ViTDet spacing, also the official code's). Otherwise as the ViT-B config.
_base_ = './mask-rcnn_vit-b16_simple-fpn_dito_ov-lvis.py'

clip = dict(type='OpenCLIP', name='ViT-L-14',
            checkpoint='checkpoints/clip/ViT-L-14_laion2b_s32b_b82k.bin',
            templates='imagenet80')
vocabulary = 'data/lvis_v1/embeddings/lvis-v1-1203+background_vit-l14.npy'
image_size = (1120, 1120)

model = dict(
    data_preprocessor=dict(pad_size_divisor=280),
    backbone=dict(
        clip=dict(type='OpenCLIP', name='ViT-L-14',
                  checkpoint='checkpoints/clip/ViT-L-14_laion2b_s32b_b82k.bin'),
        window_size=20),
    # the stride-14 map gives pyramid strides 3.5, 7, 14, 28 (+56 for P6)
    neck=dict(in_channels=1024),
    rpn_head=dict(anchor_generator=dict(strides=[3.5, 7, 14, 28, 56])),
    roi_head=dict(
        bbox_roi_extractor=dict(featmap_strides=[3.5, 7, 14, 28]),
        mask_roi_extractor=dict(featmap_strides=[3.5, 7, 14, 28]),
        bbox_head=dict(vocabulary=vocabulary)))

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
train_dataloader = dict(dataset=dict(dataset=dict(pipeline=train_pipeline)))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
