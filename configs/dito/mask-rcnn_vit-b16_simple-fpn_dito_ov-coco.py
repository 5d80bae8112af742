# DITO on OV-COCO (48 base / 17 novel; novel AP50 is the metric), ViT-B/16,
# REP-initialised heads (`load_from`), SWL and frozen-backbone distillation.
# Paper (Sec. 4): 1024 px, SGD momentum 0.9, batch 128, lr 0.02, 11.3k
# iterations, backbone lr 0.6x; alpha 0.3 / beta 0.65.
_base_ = [
    '../_base_/models/mask-rcnn_vit-b16_simple-fpn_dito.py',
    '../_base_/datasets/ov_coco_instance.py',
    '../_base_/schedules/dito_lsj-1024_sgd.py',
    'mmdet::_base_/default_runtime.py'
]

vocabulary = 'data/coco/embeddings/ov-coco-65+background_vit-b16.npy'
vocabulary_background = True
# load_from = 'work_dirs/dito_vit-b16_rep_image-text/iter_30000.pth'

model = dict(
    backbone=dict(shifted=True),
    distill=dict(loss_weight=1.0),
    roi_head=dict(
        bbox_head=dict(vocabulary=vocabulary,
                       novel_classes={{_base_.ov_coco_novel_classes}})))

train_dataloader = dict(batch_size=2, num_workers=4,
                        dataset=dict(pipeline={{_base_.lsj_train_pipeline}}))
val_dataloader = dict(dataset=dict(pipeline={{_base_.lsj_test_pipeline}}))
test_dataloader = val_dataloader

max_iters = 11300
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters,
                 val_interval=max_iters)
optim_wrapper = dict(optimizer=dict(lr=0.02))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
         end=500),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=0, end=max_iters,
         T_max=max_iters, eta_min=0.0)
]
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=2000,
                    max_keep_ckpts=2))
log_processor = dict(by_epoch=False)
