# SSOD on OVD-Shapes, "Supervised + PLs" (VL-PLM Table 3; "SSL PLs only" of
# Table 9): the labeled 10 % with ground truth plus the unlabeled 90 % with the
# Supervised teacher's pseudo labels (its detections on them, thresholded at
# tau = 0.8 with per-class NMS: the `pseudo_labeler` block below, teacher
# only). One training set, sampled uniformly as the paper's Detectron2 runs;
# unlabeled images without a pseudo label are left out.
#
# Stages (ovd-shapes-ssod.stages.yml): supervised -> teacher-detections (its
# detections on the unlabeled split, a COCO results json) -> teacher-pls (this
# block) -> this student. By hand:
#   python tools/test.py <supervised config> <teacher.pth> --cfg-options \
#       test_dataloader.dataset.ann_file=semi_anns/instances_train.1@10-unlabeled.json \
#       test_evaluator.ann_file=data/ovd_shapes/semi_anns/instances_train.1@10-unlabeled.json \
#       test_evaluator.format_only=True test_evaluator.outfile_prefix=work_dirs/ssod_teacher
#   python tools/gen_pseudo_labels.py <this config> \
#       --cfg-options pseudo_labeler.teacher=work_dirs/ssod_teacher.bbox.json
#   python tools/train.py <this config>
_base_ = './faster-rcnn_r18-narrow_fpn_ovd-shapes-ssod-10pct_supervised.py'

pseudo_labels = 'pseudo_labels/ssod-1@10_teacher.json'
pseudo_labeler = dict(
    type='VLPLMLabeler',
    teacher_only=True,
    teacher='work_dirs/ssod_teacher.bbox.json',
    targets='all',
    tau=0.8)
# the labeler runs over the unlabeled split
pseudo_label_io = dict(
    ann_file='data/ovd_shapes/semi_anns/instances_train.1@10-unlabeled.json',
    img_dir='data/ovd_shapes/images/',
    out='data/ovd_shapes/' + pseudo_labels)

train_dataloader = dict(
    dataset=dict(
        type='PseudoLabelDataset',
        pseudo_ann_file=pseudo_labels,
        pseudo_score_thr=0.0,  # the json is thresholded at tau already
        pseudo_mask=None))
