# OVD-Shapes (ovd_ext/shapes, `make demo` generates it): 20 classes,
# 15 base / 5 novel; the LVIS-format val json labels the novel classes rare.
# Training uses the COCO-format train split with novel annotations dropped;
# testing reports OV-COCO base / novel AP50 and LVIS AP / APr / APc / APf (box
# and mask) on the same val images.
_base_ = './ovd_shapes_classes.py'

data_root = 'data/ovd_shapes/'
backend_args = None
image_scale = (192, 192)

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='Resize', scale=image_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='Resize', scale=image_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor'))
]
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    dataset=dict(
        type='OVCocoDataset',
        data_root=data_root,
        metainfo={{_base_.ovd_shapes_metainfo}},
        ann_file='annotations/instances_train.json',
        data_prefix=dict(img='images/'),
        drop_novel=True,
        filter_cfg=dict(filter_empty_gt=True, min_size=8),
        pipeline=train_pipeline,
        backend_args=backend_args))
val_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='OVCocoDataset',
        data_root=data_root,
        metainfo={{_base_.ovd_shapes_metainfo}},
        ann_file='annotations/instances_val.json',
        data_prefix=dict(img='images/'),
        test_mode=True,
        pipeline=test_pipeline,
        backend_args=backend_args))
test_dataloader = val_dataloader
val_evaluator = [
    dict(
        type='OVDCocoMetric',
        ann_file=data_root + 'annotations/instances_val.json',
        metric=['bbox', 'segm'],
        format_only=False,
        backend_args=backend_args),
    dict(
        type='OVLVISMetric',
        ann_file=data_root + 'annotations/lvis_v1_val.json',
        metric=['bbox', 'segm'],
        backend_args=backend_args)
]
test_evaluator = val_evaluator
