# RichSem on OVD-Shapes, row 3: + image-label data with hard labels only
# (Table 3e, "INet-LVIS without L_soft"): the 600 image-label images (30 per
# class, one dominant object each), mapped by name (Eq. 6), each with its
# whole-image box (0, 0, w, h of the augmented image) as a coarse location,
# trained with L_cls and L_loc; no teacher, no semantic branch.
# Mixed data: detection and image-label images sampled 1:1 whatever their
# sizes, each batch from one source (mmdet's ConcatDataset + MultiDataSampler
# + MultiDataAspectRatioBatchSampler); twice the baseline's iterations so the
# detection data gets the same number (Sec. 4.2).
_base_ = './faster-rcnn_r18-narrow_fpn_baseline_ovd-shapes-lt.py'

image_label_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale={{_base_.image_scale}}, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='WholeImageBox'),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor', 'flip', 'flip_direction', 'image_label'))
]
image_label_dataset = dict(
    type='ImageLabelDataset',
    data_root={{_base_.data_root}},
    metainfo=dict(classes={{_base_.ovd_shapes_classes}}),
    ann_file='annotations/image_labels_train.json',
    data_prefix=dict(img='images/'),
    taxonomy=None,
    pipeline=image_label_pipeline)
train_dataloader = dict(
    _delete_=True,
    batch_size=4,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='MultiDataSampler', dataset_ratio=[1, 1]),
    batch_sampler=dict(type='MultiDataAspectRatioBatchSampler',
                       batch_size=[4, 4], num_datasets=2),
    dataset=dict(type='ConcatDataset',
                 datasets=[{{_base_.det_train_dataset}}, image_label_dataset]))

max_iters = 1600  # 2 x det_iters of the baseline (800)
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=0, end=max_iters,
         T_max=max_iters, eta_min=2e-5)
]
default_hooks = dict(checkpoint=dict(interval=max_iters))
