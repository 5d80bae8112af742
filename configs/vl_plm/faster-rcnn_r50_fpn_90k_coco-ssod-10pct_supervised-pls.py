# SSOD "Supervised + PLs" (VL-PLM Table 3 / "SSL PLs only" of Table 9): the
# labeled 10 % ground truth plus the Supervised teacher's pseudo labels on the
# unlabeled 90 % (the `pseudo_labeler` block below, teacher only: threshold
# tau 0.8 and per-class NMS on the teacher's detections). Unlabeled images
# enter the training set with pseudo labels only.
_base_ = './faster-rcnn_r50_fpn_90k_coco-ssod-10pct_supervised.py'

pseudo_labels = 'pseudo_labels/ssod_1@10_teacher.json'
# Their labeler, run on the unlabeled split (README.md): the teacher's
# detections (COCO results json), thresholded and NMS'd, all 80 classes.
pseudo_labeler = dict(
    type='VLPLMLabeler',
    teacher_only=True,
    teacher='work_dirs/teacher_1@10_unlabeled.bbox.json',
    targets='all')

train_dataloader = dict(
    dataset=dict(
        type='PseudoLabelDataset',
        pseudo_ann_file=pseudo_labels,
        pseudo_score_thr=0.0,  # the json is thresholded at tau=0.8 already
        pseudo_mask=None))
