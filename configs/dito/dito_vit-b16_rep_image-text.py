# DITO region-centric pretraining (REP, Sec. 3.2 / 4) of ViT-B/16 detector
# heads on an image-text json (COCO-Captions format: `images` + `annotations`
# with `caption`; tools/dataset_converters/cc3m_to_coco_captions.py makes one
# from an img2dataset download such as LAION / CC3M). Image and text towers
# frozen; SimpleFPN (LN), RoIAlign, the Faster R-CNN box head and the RPN
# objectness conv learn. Paper: 256 x 256 images, 400/200/100/50 boxes on
# P2..P5, AdamW lr 1e-4 with linear decay, 30k iterations of batch 4096.
# Here batch 64 per GPU; auto_scale_lr scales the lr to the real batch.
# The finetuning configs `load_from` this run's checkpoint.
_base_ = './dito_tiny-vit_rep_ovd-shapes.py'

clip = dict(type='OpenCLIP', name='ViT-B-16',
            checkpoint='checkpoints/clip/ViT-B-16_laion2b_s34b_b88k.bin')
# builds the box head only (its classes are not used in REP)
vocabulary = 'data/lvis_v1/embeddings/lvis-v1-1203+background_vit-b16.npy'
image_scale = (256, 256)

model = dict(
    clip=clip,
    # global attention at 256 px (16 x 16 patches, the CLIP's own layout)
    backbone=dict(clip=clip, window_size=None),
    neck=dict(in_channels=768, out_channels=256,
              scale_factors=(4.0, 2.0, 1.0, 0.5)),
    rpn_head=dict(in_channels=256, feat_channels=256,
                  anchor_generator=dict(scales=[8])),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=256),
        bbox_head=dict(in_channels=256, fc_out_channels=1024,
                       vocabulary=vocabulary)),
    data_preprocessor=dict(pad_size_divisor=16))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomCaption'),
    dict(type='RandomResize', scale=image_scale, ratio_range=(0.8, 1.25),
         keep_ratio=True),
    dict(type='RandomCrop', crop_size=image_scale, allow_negative_crop=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor', 'flip', 'flip_direction', 'caption'))
]
train_dataloader = dict(
    batch_size=64,
    num_workers=8,
    dataset=dict(
        ann_file='data/laion/annotations/captions_train.json',
        data_prefix=dict(img='data/laion/images/'),
        pipeline=train_pipeline))

max_iters = 30000
train_cfg = dict(max_iters=max_iters, val_interval=max_iters + 1)
optim_wrapper = dict(optimizer=dict(lr=1e-4, weight_decay=0.05))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
         end=1000),
    dict(type='LinearLR', start_factor=1.0, end_factor=0.0, by_epoch=False,
         begin=1000, end=max_iters)
]
auto_scale_lr = dict(enable=True, base_batch_size=4096)
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=5000,
                    max_keep_ckpts=2))
