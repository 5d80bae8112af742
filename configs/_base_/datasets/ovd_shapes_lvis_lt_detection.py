# OVD-Shapes as a long-tailed LVIS-format detection benchmark (box only):
# train on lvis_v1_train.json with every class (the rare ones have 1-10
# training images: star 1, mushroom 4, fish 5, house 6, ring 10), mmdet's
# repeat-factor sampling (ClassBalancedDataset, t = 1e-3, LVIS), test on
# lvis_v1_val.json with box AP / APr / APc / APf.
_base_ = './ovd_shapes_classes.py'

data_root = 'data/ovd_shapes/'
image_scale = (192, 192)
lvis_train = data_root + 'annotations/lvis_v1_train.json'

det_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=image_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=image_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor'))
]
det_train_dataset = dict(
    type='ClassBalancedDataset',
    oversample_thr=1e-3,
    dataset=dict(
        type='LVISV1Dataset',
        data_root=data_root,
        metainfo=dict(classes={{_base_.ovd_shapes_classes}}),
        ann_file='annotations/lvis_v1_train.json',
        data_prefix=dict(img='images/'),
        filter_cfg=dict(filter_empty_gt=True, min_size=8),
        pipeline=det_train_pipeline))
train_dataloader = dict(
    batch_size=4,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    dataset=det_train_dataset)
val_dataloader = dict(
    batch_size=8,
    num_workers=1,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='LVISV1Dataset',
        data_root=data_root,
        metainfo=dict(classes={{_base_.ovd_shapes_classes}}),
        ann_file='annotations/lvis_v1_val.json',
        data_prefix=dict(img='images/'),
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='OVLVISMetric',
                     ann_file=data_root + 'annotations/lvis_v1_val.json',
                     metric=['bbox'])
test_evaluator = val_evaluator
