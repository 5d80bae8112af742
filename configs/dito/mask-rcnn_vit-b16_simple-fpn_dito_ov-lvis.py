# DITO on OV-LVIS v1 (rare = novel), ViT-B/16 (open_clip laion2b weights from
# a local file), the full method: REP-initialised heads (`load_from` a
# dito_vit-b16_rep_image-text.py checkpoint), shifted-window learning and
# frozen-backbone distillation (Table 1 / 4a). Paper settings (Sec. 4,
# detection finetuning setup): 1024 x 1024 images, window grid 4 x 4
# (window 16 patches), 4 global blocks, backbone lr 0.6x the heads', SGD with
# momentum 0.9, batch 128, lr 0.18, 36.8k iterations, alpha 0.3 / beta 0.65.
# Scale the batch with auto_scale_lr (here 8 GPUs x 2 images = 16).
_base_ = [
    '../_base_/models/mask-rcnn_vit-b16_simple-fpn_dito.py',
    '../_base_/datasets/ov_lvis_v1_instance.py',
    '../_base_/schedules/dito_lsj-1024_sgd.py',
    'mmdet::_base_/default_runtime.py'
]

lvis_train_json = 'data/lvis_v1/annotations/lvis_v1_train.json'
vocabulary = 'data/lvis_v1/embeddings/lvis-v1-1203+background_vit-b16.npy'
vocabulary_background = True
# load_from = 'work_dirs/dito_vit-b16_rep_image-text/iter_30000.pth'

model = dict(
    backbone=dict(shifted=True),
    distill=dict(loss_weight=1.0),
    roi_head=dict(
        bbox_head=dict(vocabulary=vocabulary,
                       novel_classes=lvis_train_json)),
    test_cfg=dict(rcnn=dict(score_thr=0.0001, max_per_img=300)))

train_dataloader = dict(
    batch_size=2, num_workers=4,
    dataset=dict(dataset=dict(pipeline={{_base_.lsj_train_pipeline}})))
val_dataloader = dict(dataset=dict(pipeline={{_base_.lsj_test_pipeline}}))
test_dataloader = val_dataloader

max_iters = 36800
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters,
                 val_interval=max_iters)
optim_wrapper = dict(optimizer=dict(lr=0.18))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
         end=1000),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=0, end=max_iters,
         T_max=max_iters, eta_min=0.0)
]
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=4000,
                    max_keep_ckpts=2))
log_processor = dict(by_epoch=False)
