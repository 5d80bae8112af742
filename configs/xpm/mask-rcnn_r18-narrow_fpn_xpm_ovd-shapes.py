# XPM robust student on OVD-Shapes (Sec. 3.2.4): the teacher's detector,
# initialised from the teacher (load_from, Sec. 4.1), trained on
# * base ground truth (L_GT, the teacher's losses), and
# * the captioned training images (all 2,000, each with 2-3 captions naming
#   its objects, novel ones included) with the cross-modal pseudo labels of
#   XPMLabeler (Eq. 2 + Eq. 4): L_M (Eq. 6, a NoiseEstimatingMaskHead) and
#   L_X^alpha (Eq. 3 weighted by Eq. 7, eta = 0.01 as the paper).
# Only the RoI heads train (g = {g_Emb, g_Mask, g_Noise} in the objective;
# the authors' code freezes the backbone and RPN): XPMMaskRCNN.
# Batches alternate between the two sources 1:1 (mmdet's MultiDataSampler +
# MultiDataAspectRatioBatchSampler, one source per batch). 850 iterations:
# the paper's student / teacher ratio (70k after 90k) of the teacher's 1,100.
#
# `make reproduce METHODS=xpm` runs the stages (configs/xpm/
# ovd-shapes.stages.yml); by hand (configs/xpm/README.md):
#   python tools/train.py configs/xpm/mask-rcnn_r18-narrow_fpn_xpm-teacher_ovd-shapes.py
#   python tools/gen_pseudo_labels.py <this config> \
#       --cfg-options pseudo_labeler.teacher_checkpoint=<teacher checkpoint>
#   python tools/train.py <this config> --cfg-options load_from=<teacher checkpoint>
_base_ = './mask-rcnn_r18-narrow_fpn_xpm-teacher_ovd-shapes.py'

# Caption vocabulary V_C: the nouns of the 20 OVD-Shapes classes and their
# synonyms (the LVIS-format json's), matched in captions after
# lemmatisation; word embeddings v_o are the tiny CLIP's text embeddings of
# the classes (prompt ensemble over the synonyms) where the paper used BERT.
caption_vocabulary = {{_base_.vocabulary}}
pseudo_labels = 'pseudo_labels/xpm_captions_train.json'

# Cross-modal pseudo labels (ovd_ext.pseudo_labels.xpm.XPMLabeler). The
# teacher's checkpoint is filled in by whoever runs it (the stages, or
# --cfg-options pseudo_labeler.teacher_checkpoint=...).
pseudo_labeler = dict(
    type='XPMLabeler',
    teacher_config='configs/xpm/mask-rcnn_r18-narrow_fpn_xpm-teacher_ovd-shapes.py',
    teacher_checkpoint=None,
    captions='data/ovd_shapes/annotations/captions_train.json',
    nouns='data/ovd_shapes/annotations/lvis_v1_train.json',
    vocabulary=caption_vocabulary,
    wordnet='auto')
pseudo_label_io = dict(
    ann_file='data/ovd_shapes/annotations/instances_train.json',
    img_dir='data/ovd_shapes/images/',
    out='data/ovd_shapes/' + pseudo_labels)
pseudo_label_run = dict(workers=2)

model = dict(
    type='XPMMaskRCNN',
    frozen_modules=('backbone', 'neck', 'rpn_head'),
    roi_head=dict(
        type='XPMRoIHead',
        caption_vocabulary=caption_vocabulary,
        eta=0.01,
        noise=True,
        # L_X's softmax over the caption vocabulary V_C (Sec. 3.1, the
        # authors' code); 'image': over each image's own caption objects
        softmax_over='vocabulary',
        mask_head=dict(type='NoiseEstimatingMaskHead')))

caption_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='Resize', scale={{_base_.image_scale}}, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor', 'flip', 'flip_direction',
                    'caption_pseudo', 'caption_words'))
]
caption_dataset = dict(
    type='CaptionPseudoLabelDataset',
    data_root={{_base_.data_root}},
    ann_file=pseudo_labels,
    data_prefix=dict(img='images/'),
    vocabulary=caption_vocabulary,
    filter_cfg=dict(filter_empty_gt=True, min_size=1),
    pipeline=caption_pipeline)
train_dataloader = dict(
    _delete_=True,
    batch_size=4,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='MultiDataSampler', dataset_ratio=[1, 1]),
    batch_sampler=dict(type='MultiDataAspectRatioBatchSampler',
                       batch_size=[4, 4], num_datasets=2),
    dataset=dict(type='ConcatDataset',
                 datasets=[{{_base_.train_dataloader.dataset}},
                           caption_dataset]))

max_iters = 850
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=0, end=max_iters,
         T_max=max_iters, eta_min=2e-5)
]
default_hooks = dict(checkpoint=dict(interval=max_iters))
