# RichSem (Sec. 3) with Faster R-CNN R50-FPN on LVIS v1 + ImageNet-LVIS
# (Table 2, "RichSem ‡": 30.6 AP, 27.6 APr, 29.7 APc, 32.9 APf).
# Long-tailed detection, NOT open-vocabulary: all 1203 LVIS classes are
# trained (plain LVISV1Dataset, no novel split, nothing masked out).
#
# Files (nothing is downloaded at run time except mmdet's ImageNet ResNet-50,
# `torchvision://resnet50`, as every R50 config here):
#   data/lvis_v1/annotations/lvis_v1_{train,val}.json   LVIS v1
#   data/lvis_v1/{train,val}2017/                       the COCO 2017 images
#   data/imagenet/annotations/imagenet_lvis_image_info.json
#       Detic's ImageNet-LVIS image labels (facebookresearch/Detic,
#       tools/create_imagenetlvis_json.py, or its released file): the
#       ImageNet-21k images of the 997 classes that are LVIS classes (~1.5M,
#       Sec. 4.1); `categories` are the LVIS v1 categories and every image has
#       `pos_category_ids`, `file_name`, `width`, `height`
#   data/imagenet/ImageNet-LVIS/<wnid>/<file>.JPEG      those images (Detic's
#       layout: `file_name` is relative to this folder)
#   checkpoints/clip/RN50-openai.pt                     OpenAI CLIP RN50
#       (open_clip `RN50-quickgelu`; configs/_base_/vlm/clip_rn50-openai.py)
#   data/lvis_v1/embeddings/lvis-v1-1203_clip-rn50.npy  (+ .json sidecar):
#       python tools/embed_vocabulary.py --config <this config>
#       (the 1203 LVIS names with their synonyms, ImageNet-80 prompts; the
#       same file as the OV-LVIS baselines). One file serves the box head's
#       classifier, the teacher (Eq. 1-2) and the semantic branch (Eq. 4).
# Other locations: edit the variables below, or --cfg-options on the fields
# that use them (model.teacher.clip.checkpoint, model.teacher.vocabulary,
# model.roi_head.{bbox_head,semantic_branch}.vocabulary,
# train_dataloader.dataset.datasets.{0.dataset,1}.data_root, ...).
#
# Where each value comes from (P: the paper, O: the official code,
# MengLcool/RichSem, config/RichSem/*.py; M: mmdet; ours):
#   P  L = L_loc + L_cls + 0.5 L_soft (Eq. 5; lambda_soft = 0.5, Sec. 4.2,
#      Table 3h); the semantic branch is its own head (Table 3b)
#   P  CLIP RN50 teacher, frozen, online (Sec. 3.1, 4.2, Table 3d); soft
#      targets at the ground-truth boxes of LVIS images and at the whole-image
#      box of the *augmented* ImageNet image (Eq. 2): WholeImageBox after the
#      last geometric transform
#   P  ImageNet-LVIS labels mapped to LVIS by name (Eq. 6, Detic's mapping:
#      taxonomy=None); both L_cls and L_loc on its whole-image boxes (Table 3g,
#      the best row: the model's loc_on_image_labels=True)
#   P  detection : image-label images sampled 1:1 whatever the dataset sizes,
#      each batch from one dataset (Sec. 4.2, "Mixed dataset training"; O:
#      main_weight = sub_weight = 1)
#   P  federated loss and repeat-factor sampling for LVIS, after Detic
#      (Sec. 4.2; O: fed_num_sample_cats = 50, rfs_repeat_sh = 0.001);
#      Detic's class-sampling weight image_count^0.5
#   P  multi-scale training: short side 480-800 (step 32), long side <= 1333
#      (Sec. 4.2); test at (1333, 800)
#   P  the schedule counts iterations on the detection data (Sec. 4.2), see
#      the arithmetic below
#   O  teacher: RoIAlign on RN50 layer4 (7 x 7, the attention pool's grid),
#      then the attention pool; scores = CLIP's logit scale x cosine
#      (CLIPSoftLabelTeacher defaults besides layer)
#   M  Faster R-CNN R50-FPN, SGD lr 0.02 / momentum 0.9 / wd 1e-4, 500-iter
#      linear warm-up, batch 16 (8 GPUs x 2), lr x0.1 at 8/12 and 11/12 of
#      the schedule (mmdet 1x); the paper gives a recipe only for DINO
#   ours  box head: cosine to the CLIP text embeddings (CLIPBBoxHead, as the
#      OVD-Shapes RichSem configs; the paper "converts the object
#      classification into vision-language contrasting", Sec. 4.2),
#      class-agnostic regression, 300 detections per image (LVIS)
#   ours  H_soft: 2 FC layers of 1024 on the 256 x 7 x 7 RoI features (the
#      box head's shape; the paper gives no size for Faster R-CNN)
#   ours  Eq. 7 threshold: the model's default (RichSemFasterRCNN,
#      hard_label_threshold = 0.5); it only acts on label -1, which
#      ImageNet-LVIS never has (unmapped labels are dropped, 'skip')
#   not followed: O mosaics ImageNet images (imagenet_use_mosaic = True); the
#      paper does not mention it
#
# Schedule, 1x counted on the detection data (Sec. 4.2: "we denote the
# schedule as the number of iterations on the target dataset"):
#   mmdet's LVIS 1x = 12 epochs of the repeat-factor LVIS v1 train set
#   (ClassBalancedDataset, t = 1e-3, filter_empty_gt, min_size 32) at batch 16;
#   one such epoch = ceil(len(dataset) / 16) = 7674 iterations (a published
#   mmdet LVIS v1 1x log at batch 16; 12 x 7674 = 92,088 iterations, about
#   detectron2's LVIS 1x of 90k). Half the batches are image-label ones (1:1),
#   so the detection data gets 1x in twice the iterations:
#     max_iters  = 2 x 12 x 7674 = 184,176
#     lr x 0.1 at  2 x  8 x 7674 = 122,784  and  2 x 11 x 7674 = 168,828
#   Another annotation version or filter changes the epoch: recompute
#   ceil(len(DATASETS.build(cfg.det_train_dataset)) / 16) and set
#   det_epoch_iters (max_iters and the milestones follow it in this file).
_base_ = [
    '../_base_/models/faster-rcnn_r50_fpn_clip-head.py',
    'mmdet::_base_/datasets/lvis_v1_instance.py',
    '../_base_/vlm/clip_rn50-openai.py',
    '../_base_/datasets/lvis_v1_classes.py',
    'mmdet::_base_/schedules/schedule_1x.py',
    'mmdet::_base_/default_runtime.py'
]

# ---------------------------------------------------------------- local files
data_root = 'data/lvis_v1/'
lvis_train_json = data_root + 'annotations/lvis_v1_train.json'
lvis_val_json = data_root + 'annotations/lvis_v1_val.json'
imagenet_root = 'data/imagenet/'
image_label_ann = 'annotations/imagenet_lvis_image_info.json'
image_label_prefix = 'ImageNet-LVIS/'
vocabulary = 'data/lvis_v1/embeddings/lvis-v1-1203_clip-rn50.npy'
# `clip` (RN50-quickgelu, checkpoints/clip/RN50-openai.pt, imagenet80
# prompts) comes from ../_base_/vlm/clip_rn50-openai.py

# ------------------------------------------------------------------- model
lambda_soft = 0.5  # Eq. 5, Sec. 4.2
teacher = dict(
    type='CLIPSoftLabelTeacher',
    clip={{_base_.clip}},  # its `templates` are the vocabulary's, unused
    vocabulary=vocabulary,
    layer='layer4')
model = dict(
    type='RichSemFasterRCNN',
    teacher=teacher,
    roi_head=dict(
        type='RichSemRoIHead',
        semantic_branch=dict(
            type='SemanticBranch',
            in_channels=256 * 7 * 7,
            vocabulary=vocabulary,
            num_fcs=2,
            fc_channels=1024,
            loss_weight=lambda_soft),
        bbox_head=dict(
            vocabulary=vocabulary,
            loss_cls=dict(
                _delete_=True,
                type='FederatedSigmoidLoss',
                class_frequency=lvis_train_json,
                num_sample_classes=50,
                freq_weight_power=0.5))),
    # LVIS keeps up to 300 detections per image
    test_cfg=dict(rcnn=dict(score_thr=0.0001, max_per_img=300)))

# -------------------------------------------------------------------- data
# mmdet's LVISV1Dataset classes, in its label order (= the LVIS json's id
# order); the image-label dataset maps the ImageNet-LVIS labels onto them by
# name (Eq. 6).
backend_args = None
train_scales = [(1333, s) for s in range(480, 801, 32)]  # 480, 512, ..., 800
det_train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='RandomChoiceResize', scales=train_scales, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
image_label_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='RandomChoiceResize', scales=train_scales, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='WholeImageBox'),  # after every geometric transform (Eq. 2)
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor', 'flip', 'flip_direction', 'image_label'))
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='Resize', scale=(1333, 800), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor'))
]
det_train_dataset = dict(
    type='ClassBalancedDataset',  # repeat-factor sampling
    oversample_thr=1e-3,
    dataset=dict(
        type='LVISV1Dataset',
        data_root=data_root,
        ann_file='annotations/lvis_v1_train.json',
        data_prefix=dict(img=''),
        filter_cfg=dict(filter_empty_gt=True, min_size=32),
        pipeline=det_train_pipeline,
        backend_args=backend_args))
image_label_dataset = dict(
    type='ImageLabelDataset',
    data_root=imagenet_root,
    metainfo=dict(classes={{_base_.lvis_v1_classes}}),
    ann_file=image_label_ann,
    data_prefix=dict(img=image_label_prefix),
    taxonomy=None,  # the json's categories are LVIS's: map by name
    pipeline=image_label_pipeline,
    backend_args=backend_args)
train_dataloader = dict(
    _delete_=True,
    batch_size=2,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='MultiDataSampler', dataset_ratio=[1, 1]),
    batch_sampler=dict(type='MultiDataAspectRatioBatchSampler',
                       batch_size=[2, 2], num_datasets=2),
    dataset=dict(
        type='ConcatDataset',
        # same classes; ImageLabelDataset has no palette
        ignore_keys=['palette'],
        datasets=[det_train_dataset, image_label_dataset]))
val_dataloader = dict(
    _delete_=True,
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='LVISV1Dataset',
        data_root=data_root,
        ann_file='annotations/lvis_v1_val.json',
        data_prefix=dict(img=''),
        test_mode=True,
        pipeline=test_pipeline,
        backend_args=backend_args))
test_dataloader = val_dataloader
val_evaluator = dict(
    _delete_=True,
    type='OVLVISMetric',  # AP, APr, APc, APf (+ AP50, AP75, ...)
    ann_file=lvis_val_json,
    metric=['bbox'],
    backend_args=backend_args)
test_evaluator = val_evaluator

# ---------------------------------------------------------------- schedule
# 1x on the detection data, twice the iterations (header: arithmetic)
det_epoch_iters = 7674  # ceil(len(RFS LVIS v1 train) / 16), batch 16
det_epochs = 12         # mmdet 1x
mix_factor = 2          # 1:1 detection : image-label batches
max_iters = mix_factor * det_epochs * det_epoch_iters          # 184,176
# 122,784 and 168,828
lr_steps = [mix_factor * e * det_epoch_iters for e in (8, 11)]
train_cfg = dict(
    _delete_=True,
    type='IterBasedTrainLoop',
    max_iters=max_iters,
    val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=0.0001))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
         end=500),
    dict(type='MultiStepLR', by_epoch=False, begin=0, end=max_iters,
         milestones=lr_steps, gamma=0.1)
]
# a checkpoint per detection-data epoch (2 x 7674 iterations)
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', by_epoch=False,
                    interval=mix_factor * det_epoch_iters, max_keep_ckpts=3))
log_processor = dict(by_epoch=False)
# batch 16 = 8 GPUs x 2 images
auto_scale_lr = dict(enable=False, base_batch_size=16)
