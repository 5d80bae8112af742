# SSOD "Supervised" baseline of VL-PLM (Sec. 4.2, Table 3): Faster R-CNN
# R50-FPN on the labeled 10 % of COCO train2017 only, 90k iterations at batch
# 16 (8 GPUs x 2). It is also the SSOD teacher whose detections on the
# unlabeled split become "PLs". Splits: tools/make_ssod_splits.py
# (STAC naming, semi_anns/instances_train2017.{fold}@{percent}.json). For
# 1 / 2 / 5 % pass e.g.
#   --cfg-options train_dataloader.dataset.ann_file=semi_anns/instances_train2017.1@1.json
_base_ = [
    'mmdet::_base_/models/faster-rcnn_r50_fpn.py',
    'mmdet::_base_/datasets/coco_detection.py',
    'mmdet::_base_/default_runtime.py'
]
custom_imports = dict(imports=['ovd_ext'], allow_failed_imports=False)

labeled_ann = 'semi_anns/instances_train2017.1@10.json'
max_iters = 90000

train_dataloader = dict(batch_size=2, dataset=dict(ann_file=labeled_ann))

train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=10000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=0.0001))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
         end=500),
    dict(type='MultiStepLR', begin=0, end=max_iters, by_epoch=False,
         milestones=[60000, 80000], gamma=0.1)
]
default_hooks = dict(
    checkpoint=dict(by_epoch=False, interval=10000, max_keep_ckpts=2))
log_processor = dict(by_epoch=False)
auto_scale_lr = dict(enable=False, base_batch_size=16)
