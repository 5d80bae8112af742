# VL-PLM OVD student on OV-COCO with the paper's final-detector recipe (Sec.
# 4.1, "similar to ViLD"): Mask R-CNN R50-FPN trained from scratch for 180k
# iterations, 1024x1024 large-scale jitter, synchronized BN over a batch of 128
# (16 GPUs x 8 images), weight decay 4e-5, initial learning rate 0.32; on base
# ground truth + novel pseudo labels. Built on mmdet's from-scratch LSJ strong
# baseline (which also uses a 2-conv RPN head and a 4conv1fc box head).
_base_ = [
    'mmdet::strong_baselines/'
    'mask-rcnn_r50_fpn_rpn-2conv_4conv1fc_syncbn-all_lsj-100e_coco.py',
    '../_base_/datasets/ov_coco_classes.py'
]
custom_imports = dict(imports=['ovd_ext'], allow_failed_imports=False)

pseudo_labels = 'pseudo_labels/vl-plm_ov-coco_novel_train2017.json'
max_iters = 180000

model = dict(
    roi_head=dict(
        bbox_head=dict(num_classes=65), mask_head=dict(num_classes=65)))
train_dataloader = dict(
    batch_size=8,
    dataset=dict(
        _delete_=True,
        type='PseudoLabelDataset',
        data_root='data/coco/',
        metainfo={{_base_.ov_coco_metainfo}},
        ann_file='annotations/instances_train2017.json',
        data_prefix=dict(img='train2017/'),
        drop_novel=True,
        pseudo_ann_file=pseudo_labels,
        pseudo_score_thr=0.0,  # the json is thresholded at tau=0.8 already
        pseudo_mask='box',
        filter_cfg=dict(filter_empty_gt=True, min_size=32),
        pipeline={{_base_.train_pipeline}},
        backend_args=None))
val_dataloader = dict(
    dataset=dict(type='OVCocoDataset', metainfo={{_base_.ov_coco_metainfo}}))
test_dataloader = val_dataloader
val_evaluator = dict(type='OVDCocoMetric', metric=['bbox', 'segm'])
test_evaluator = val_evaluator

train_cfg = dict(
    _delete_=True,
    type='IterBasedTrainLoop',
    max_iters=max_iters,
    val_interval=10000)
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.32, momentum=0.9, weight_decay=4e-5))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.067, by_epoch=False, begin=0,
         end=1000),
    dict(type='MultiStepLR', begin=0, end=max_iters, by_epoch=False,
         milestones=[int(max_iters * 0.9), int(max_iters * 0.95)],
         gamma=0.1)
]
default_hooks = dict(
    checkpoint=dict(by_epoch=False, interval=10000, max_keep_ckpts=2))
log_processor = dict(by_epoch=False)
auto_scale_lr = dict(enable=False, base_batch_size=128)
