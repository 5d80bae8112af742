# XPM robust student on OV-COCO with COCO Captions (Sec. 3.2.4, 4.1): the
# teacher's Mask R-CNN R50-FPN initialised from the teacher (load_from) and
# trained for 70k iterations of 8 images at lr 0.001 (Sec. 4.1) on
# * the 48 base classes' ground truth (L_GT), and
# * every COCO train2017 image with its five captions and XPMLabeler's
#   cross-modal pseudo masks (L_M, Eq. 6; L_X^alpha, Eq. 3 + 7, eta 0.01),
# one source per batch, 1:1. Only the RoI heads train (XPMMaskRCNN; the
# authors' code freezes backbone and RPN).
# Caption vocabulary V_C: LVIS v1's categories and synonyms (the authors'
# code scores pseudo labels against LVIS's class names), embedded with the
# config's CLIP:
#   python tools/embed_vocabulary.py --config <this config> \
#       --classes-from-json data/lvis_v1/annotations/lvis_v1_val.json \
#       --out data/coco/embeddings/lvis-v1-nouns_clip-rn50.npy
# Then:
#   python tools/train.py configs/xpm/mask-rcnn_r50_fpn_xpm-teacher_1x_ov-coco.py
#   python tools/gen_pseudo_labels.py <this config> \
#       --cfg-options pseudo_labeler.teacher_checkpoint=<teacher .pth>
#   python tools/train.py <this config> --cfg-options load_from=<teacher .pth>
_base_ = './mask-rcnn_r50_fpn_xpm-teacher_1x_ov-coco.py'

data_root = 'data/coco/'
caption_vocabulary = 'data/coco/embeddings/lvis-v1-nouns_clip-rn50.npy'
pseudo_labels = 'pseudo_labels/xpm_captions_train2017.json'

pseudo_labeler = dict(
    type='XPMLabeler',
    teacher_config='configs/xpm/mask-rcnn_r50_fpn_xpm-teacher_1x_ov-coco.py',
    teacher_checkpoint=None,
    captions=data_root + 'annotations/captions_train2017.json',
    nouns='data/lvis_v1/annotations/lvis_v1_val.json',
    vocabulary=caption_vocabulary,
    wordnet='auto')
pseudo_label_io = dict(
    ann_file=data_root + 'annotations/instances_train2017.json',
    img_dir=data_root + 'train2017/',
    out=data_root + pseudo_labels)
pseudo_label_run = dict(workers=8)

model = dict(
    type='XPMMaskRCNN',
    frozen_modules=('backbone', 'neck', 'rpn_head'),
    roi_head=dict(
        type='XPMRoIHead',
        caption_vocabulary=caption_vocabulary,
        eta=0.01,
        noise=True,
        mask_head=dict(type='NoiseEstimatingMaskHead')))

caption_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='Resize', scale=(1333, 800), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor', 'flip', 'flip_direction',
                    'caption_pseudo', 'caption_words'))
]
gt_dataset = {{_base_.train_dataloader.dataset}}
caption_dataset = dict(
    type='CaptionPseudoLabelDataset',
    data_root=data_root,
    ann_file=pseudo_labels,
    data_prefix=dict(img='train2017/'),
    vocabulary=caption_vocabulary,
    filter_cfg=dict(filter_empty_gt=True, min_size=1),
    pipeline=caption_pipeline)
train_dataloader = dict(
    _delete_=True,
    batch_size=4,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='MultiDataSampler', dataset_ratio=[1, 1]),
    batch_sampler=dict(type='MultiDataAspectRatioBatchSampler',
                       batch_size=[8, 8], num_datasets=2),
    dataset=dict(type='ConcatDataset',
                 datasets=[gt_dataset, caption_dataset]))

max_iters = 70000
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop',
                 max_iters=max_iters, val_interval=10000)
optim_wrapper = dict(optimizer=dict(lr=0.001))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
         end=500),
    dict(type='MultiStepLR', by_epoch=False, begin=0, end=max_iters,
         milestones=[50000, 65000], gamma=0.1)
]
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=10000))
log_processor = dict(by_epoch=False)
# mmdet's linear scaling rule reference: 8 images per batch in the paper
auto_scale_lr = dict(base_batch_size=8)
