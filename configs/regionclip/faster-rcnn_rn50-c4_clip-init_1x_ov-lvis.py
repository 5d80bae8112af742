# RegionCLIP transfer to open-vocabulary detection on OV-LVIS v1 (Sec. 4.1,
# Table 2), initialised from plain OpenAI CLIP RN50 (the paper reports no
# CLIP-init row on OV-LVIS; its RegionCLIP row, the -regionclip-init config,
# is APr 17.1, APc 27.4, APf 34.0, mAP 28.2 with masks). The OV-COCO C4
# detector (faster-rcnn_rn50-c4_clip-init_1x_ov-coco.py: CLIP ResNet C4,
# RoIAlign 14 on stride 16, layer4 + attention pool, cosine logits at 100,
# zero background embedding) with the LVIS values of Sec. 4 (implementation
# details): background weight 0.8, focal gamma 0.0 (plain weighted
# cross-entropy), the 1203-class vocabulary, trained on the 866 base classes
# (frequent + common; rare = novel: annotations dropped, logits masked),
# repeat-factor sampling (t = 1e-3), up to 300 detections per image, box AP /
# APr / APc / APf.
# Schedule: SGD, batch 16, lr 0.002, LVIS "1x" = detectron2's 180k
# iterations (lr x0.1 at 120k and 160k, 5k warm-up; the official config).
# Offline RPN: the R50-FPN LVIS-base RPN (rpn_r50_fpn_1x_ov-lvis-base.py).
# Where we differ: box-only Faster R-CNN (the paper trains Mask R-CNN on
# LVIS: "all experiments on LVIS additionally consider mask annotation");
# the official RPN here is rpn_lvis_866_lsj (LSJ, 400 epochs); the
# official LVIS test multiplies in the RPN score (MULTIPLY_RPN_SCORE),
# which OfflineRPNDetector does not; score threshold 0.0001 (mmdet's LVIS
# value; official 0.02).
#
# Local files (nothing is downloaded):
#   checkpoints/clip/RN50-openai.pt (configs/ov_baselines/README.md);
#   data/lvis_v1/annotations/lvis_v1_{train,val}.json, data/lvis_v1/{train,val}2017/;
#   the 1203-class vocabulary (the OV baselines' file):
#     python tools/embed_vocabulary.py --config configs/regionclip/faster-rcnn_rn50-c4_clip-init_1x_ov-lvis.py
#   checkpoints/regionclip/rpn_r50_fpn_1x_ov-lvis-base.pth (training only).
_base_ = './faster-rcnn_rn50-c4_clip-init_1x_ov-coco.py'

lvis_root = 'data/lvis_v1/'
lvis_train_json = lvis_root + 'annotations/lvis_v1_train.json'
vocabulary = 'data/lvis_v1/embeddings/lvis-v1-1203_clip-rn50.npy'

model = dict(
    offline_rpn_checkpoint='checkpoints/regionclip/rpn_r50_fpn_1x_ov-lvis-base.pth',
    roi_head=dict(
        bbox_head=dict(
            vocabulary=vocabulary,
            novel_classes=lvis_train_json,  # its rare classes are novel
            loss_cls=dict(type='FocalScaledCrossEntropyLoss',
                          focal_gamma=0.0, bg_weight=0.8))),
    test_cfg=dict(rcnn=dict(score_thr=0.0001, max_per_img=300)))

test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='Resize', scale=(1333, 800), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor'))
]
train_dataloader = dict(
    _delete_=True,
    batch_size=2,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    dataset=dict(
        type='ClassBalancedDataset',
        oversample_thr=1e-3,
        dataset=dict(
            type='OVLVISV1Dataset',
            drop_novel=True,
            data_root=lvis_root,
            ann_file='annotations/lvis_v1_train.json',
            data_prefix=dict(img=''),
            filter_cfg=dict(filter_empty_gt=True, min_size=32),
            pipeline={{_base_.train_pipeline}})))
val_dataloader = dict(
    _delete_=True,
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='OVLVISV1Dataset',
        data_root=lvis_root,
        ann_file='annotations/lvis_v1_val.json',
        data_prefix=dict(img=''),
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(
    _delete_=True,
    type='OVLVISMetric',
    ann_file=lvis_root + 'annotations/lvis_v1_val.json',
    metric='bbox')
test_evaluator = val_evaluator

max_iters = 180000
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
         end=5000),
    dict(type='MultiStepLR', by_epoch=False, begin=0, end=max_iters,
         milestones=[120000, 160000], gamma=0.1)
]
