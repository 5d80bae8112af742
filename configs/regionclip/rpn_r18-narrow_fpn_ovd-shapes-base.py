# RegionCLIP's region proposal network on OVD-Shapes (Sec. 4 (implementation
# details): "RPN ... was trained by the base categories of target dataset"): an
# mmdet RPN with the CPU-sized narrow ResNet-18 FPN of the baselines, trained
# on the 15 base classes' boxes only (novel annotations dropped). It proposes
# regions for pretraining (tools/test.py with the -dump-proposals config), for
# zero-shot inference and, frozen, for the transfer detectors. Validation:
# class-agnostic recall (AR@100/300/1000) on all 20 classes. Input: the images
# at 2x (384 px), the scale of RegionCLIP's OVD-Shapes detectors (see the
# transfer config).
_base_ = [
    '../_base_/models/mask-rcnn_r18-narrow_fpn_clip-head.py',
    '../_base_/datasets/ovd_shapes_instance.py',
    'mmdet::_base_/default_runtime.py'
]
custom_imports = dict(imports=['ovd_ext'], allow_failed_imports=False)
image_scale = (384, 384)

model = dict(
    _delete_=True,
    type='RPN',
    data_preprocessor={{_base_.model.data_preprocessor}},
    backbone={{_base_.model.backbone}},
    neck={{_base_.model.neck}},
    rpn_head={{_base_.model.rpn_head}},
    train_cfg=dict(rpn={{_base_.model.train_cfg.rpn}}),
    # proposals for pretraining / evaluation: NMS 0.7, up to 1000 per image
    test_cfg=dict(rpn=dict(nms_pre=1000, max_per_img=1000,
                           nms=dict(type='nms', iou_threshold=0.7),
                           min_bbox_size=0)))

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=image_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='Resize', scale=image_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor'))
]
train_dataloader = dict(batch_size=4, num_workers=1,
                        dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(num_workers=1, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(
    _delete_=True,
    type='CocoMetric',
    ann_file='data/ovd_shapes/annotations/instances_val.json',
    metric='proposal',
    proposal_nums=(100, 300, 1000),
    backend_args=None)
test_evaluator = val_evaluator

# the baselines' schedule: AdamW, 1,100 iterations of 4 images
max_iters = 1100
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters,
                 val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=2e-3, weight_decay=0.05),
    clip_grad=dict(max_norm=10.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=0, end=max_iters,
         T_max=max_iters, eta_min=2e-5)
]
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=max_iters,
                    max_keep_ckpts=1))
log_processor = dict(by_epoch=False)
randomness = dict(seed=0)
env_cfg = dict(cudnn_benchmark=False)
