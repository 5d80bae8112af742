# SSOD on OVD-Shapes, "Supervised" (VL-PLM Sec. 4.2, Table 3): a standard
# Faster R-CNN trained on the labeled 10 % of the training images with every
# class known (no novel split). It is also the SSOD teacher: its detections on
# the unlabeled 90 % become the pseudo labels ("PLs") of the other rows.
#
# Sized for 2 CPU cores like the other OVD-Shapes detectors: the narrow
# ResNet-18 FPN from scratch, 192 px images, and the OVD-Shapes baseline's
# schedule (AdamW, 1,100 iterations of 4 images, inherited). Every SSOD row (teacher,
# class-agnostic proposal generator, students) shares this detector and
# schedule, as the paper trains all Table 3 rows with one recipe (90k
# iterations at batch 16). The box head's FCs are 64 wide (256 in the OVD
# detectors) to keep the five SSOD zoo checkpoints small.
#
# Split (tools/make_ssod_splits.py, STAC's naming; the `splits` stage of
# ovd-shapes-ssod.stages.yml writes it): fold 1 of 10 % of
# annotations/instances_train.json ->
#   data/ovd_shapes/semi_anns/instances_train.1@10.json            (labeled)
#   data/ovd_shapes/semi_anns/instances_train.1@10-unlabeled.json  (unlabeled)
# Test: COCO box AP and AP50 over all 20 classes on the val images.
_base_ = '../ov_baselines/mask-rcnn_r18-narrow_fpn_clip-head_ovd-shapes.py'

labeled_ann = 'semi_anns/instances_train.1@10.json'
unlabeled_ann = 'semi_anns/instances_train.1@10-unlabeled.json'
ssod_metainfo = dict(classes={{_base_.ovd_shapes_classes}})
box_fc = 64

# a standard Faster R-CNN: no mask head, a linear classifier over 20 classes
model = dict(
    type='FasterRCNN',
    roi_head=dict(
        mask_roi_extractor=None,
        mask_head=None,
        bbox_head=dict(
            _delete_=True,
            type='Shared2FCBBoxHead',
            in_channels=64,
            fc_out_channels=box_fc,
            roi_feat_size=7,
            num_classes=20,
            bbox_coder=dict(
                type='DeltaXYWHBBoxCoder',
                target_means=[0., 0., 0., 0.],
                target_stds=[0.1, 0.1, 0.2, 0.2]),
            reg_class_agnostic=False,
            loss_cls=dict(
                type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
            loss_bbox=dict(type='L1Loss', loss_weight=1.0))))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale={{_base_.image_scale}}, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale={{_base_.image_scale}}, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor'))
]
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='CocoDataset',
        data_root={{_base_.data_root}},
        metainfo=ssod_metainfo,
        ann_file=labeled_ann,
        data_prefix=dict(img='images/'),
        filter_cfg=dict(filter_empty_gt=True, min_size=8),
        pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='CocoDataset',
        data_root={{_base_.data_root}},
        metainfo=ssod_metainfo,
        ann_file='annotations/instances_val.json',
        data_prefix=dict(img='images/'),
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(
    _delete_=True,
    type='CocoMetric',
    ann_file=_base_.data_root + 'annotations/instances_val.json',
    metric='bbox')
test_evaluator = val_evaluator
