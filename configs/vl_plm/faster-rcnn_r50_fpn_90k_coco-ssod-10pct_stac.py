# SSOD "STAC" on COCO 10 % (VL-PLM Table 3 runs the official STAC code with
# its defaults; the OVD-Shapes config
# faster-rcnn_r18-narrow_fpn_ovd-shapes-ssod-10pct_stac.py explains each):
# the Supervised teacher's detections on the unlabeled 90 % at tau = 0.9 +
# NMS (the `pseudo_labeler` block), a student from ImageNet weights on
# L_s + 2 L_u, batches of one labeled + one pseudo-labelled image per GPU
# (8 GPUs: 16), STAC's strong augmentation on the pseudo-labelled images.
# Schedule: the Supervised recipe's (90k iterations), so the Table 3 rows
# differ only in their pseudo labels and STAC's loss / augmentation.
#   python tools/gen_pseudo_labels.py <this config> \
#       --ann-file data/coco/semi_anns/instances_train2017.1@10-unlabeled.json \
#       --img-dir data/coco/train2017 \
#       --cfg-options pseudo_labeler.teacher=work_dirs/teacher_1@10_unlabeled.bbox.json
#   python tools/train.py <this config>
_base_ = [
    './faster-rcnn_r50_fpn_90k_coco-ssod-10pct_supervised-pls.py',
    '../_base_/datasets/stac_strong_augmentation.py'
]

pseudo_labels = 'pseudo_labels/ssod_1@10_teacher-stac.json'
pseudo_labeler = dict(tau=0.9)

model = dict(
    type='STAC',
    sup_weight=1.0,
    unsup_weight=2.0,
    data_preprocessor=dict(_delete_=True, **_base_.stac_data_preprocessor))

# the Supervised pipeline up to packing, then one branch each
weak = _base_.train_pipeline[:-1]
labeled_dataset = dict(
    type='CocoDataset',
    data_root=_base_.data_root,
    ann_file=_base_.labeled_ann,
    data_prefix=dict(img='train2017/'),
    filter_cfg=dict(filter_empty_gt=True, min_size=32),
    pipeline=weak + [dict(type='MultiBranch',
                          branch_field=_base_.branch_field,
                          sup=dict(type='PackDetInputs'))])
pseudo_labeled_dataset = dict(
    type='PseudoLabelDataset',
    data_root=_base_.data_root,
    ann_file='semi_anns/instances_train2017.1@10-unlabeled.json',
    pseudo_ann_file=pseudo_labels,
    pseudo_score_thr=0.0,  # the json is thresholded at tau already
    pseudo_mask=None,
    data_prefix=dict(img='train2017/'),
    filter_cfg=dict(filter_empty_gt=True, min_size=32),
    pipeline=weak + [dict(type='MultiBranch',
                          branch_field=_base_.branch_field,
                          unsup=_base_.strong_augmentation +
                          [dict(type='PackDetInputs')])])
train_dataloader = dict(
    batch_size=2,
    sampler=dict(_delete_=True, type='GroupMultiSourceSampler',
                 batch_size=2, source_ratio=[1, 1]),
    batch_sampler=None,
    dataset=dict(_delete_=True, type='ConcatDataset',
                 datasets=[labeled_dataset, pseudo_labeled_dataset],
                 ignore_keys=['base_classes', 'novel_classes']))
