# SSOD on OVD-Shapes, "STAC" (Sohn et al. 2020; VL-PLM Table 3 runs the
# official STAC code "with default settings", so its defaults are used here):
# * pseudo labels: the Supervised teacher's detections on the unlabeled split
#   at STAC's confidence threshold tau = 0.9 (official TRAIN.CONFIDENCE=0.9)
#   with per-class NMS, made offline once (the `pseudo_labeler` block);
# * student: trained from scratch (as the teacher; STAC starts from ImageNet
#   weights, not from the teacher) on L = L_s + lambda_u * L_u with
#   lambda_u = 2 (TRAIN.WU=2), both losses the full Faster R-CNN losses
#   (RPN + RoI head), by the STAC detector (ovd_ext/models/detectors/stac.py);
# * batches: half labeled, half unlabeled (STAC: one of each per GPU), by
#   mmdet's GroupMultiSourceSampler;
# * augmentation: labeled images get the weak pipeline (resize, flip),
#   pseudo-labelled ones STAC's 'strong' one after it
#   (../_base_/datasets/stac_strong_augmentation.py, mmdet transforms);
# * unlabeled images without a pseudo label above tau are left out (as in
#   "Supervised + PLs").
#
# Stages (ovd-shapes-ssod.stages.yml): supervised -> teacher-detections ->
# stac-pls (this block) -> this student. By hand, as the "Supervised + PLs"
# config, with this config in gen_pseudo_labels.py and train.py.
_base_ = [
    './faster-rcnn_r18-narrow_fpn_ovd-shapes-ssod-10pct_supervised-pls.py',
    '../_base_/datasets/stac_strong_augmentation.py'
]

pseudo_labels = 'pseudo_labels/ssod-1@10_teacher-stac.json'
pseudo_labeler = dict(tau=0.9)
pseudo_label_io = dict(out='data/ovd_shapes/' + pseudo_labels)

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
    metainfo=_base_.ssod_metainfo,
    ann_file=_base_.labeled_ann,
    data_prefix=dict(img='images/'),
    filter_cfg=dict(filter_empty_gt=True, min_size=8),
    pipeline=weak + [dict(type='MultiBranch',
                          branch_field=_base_.branch_field,
                          sup=dict(type='PackDetInputs'))])
pseudo_labeled_dataset = dict(
    type='PseudoLabelDataset',
    data_root=_base_.data_root,
    metainfo=_base_.ssod_metainfo,
    ann_file=_base_.unlabeled_ann,
    pseudo_ann_file=pseudo_labels,
    pseudo_score_thr=0.0,  # the json is thresholded at tau already
    pseudo_mask=None,
    data_prefix=dict(img='images/'),
    filter_cfg=dict(filter_empty_gt=True, min_size=8),
    pipeline=weak + [dict(type='MultiBranch',
                          branch_field=_base_.branch_field,
                          unsup=_base_.strong_augmentation +
                          [dict(type='PackDetInputs')])])
batch_size = 4
train_dataloader = dict(
    batch_size=batch_size,
    sampler=dict(_delete_=True, type='GroupMultiSourceSampler',
                 batch_size=batch_size, source_ratio=[1, 1]),
    batch_sampler=None,
    dataset=dict(_delete_=True, type='ConcatDataset',
                 datasets=[labeled_dataset, pseudo_labeled_dataset],
                 # PseudoLabelDataset adds an (empty) OVD split to metainfo
                 ignore_keys=['base_classes', 'novel_classes']))
