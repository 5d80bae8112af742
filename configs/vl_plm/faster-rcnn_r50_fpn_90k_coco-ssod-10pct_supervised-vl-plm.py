# SSOD "Supervised + VL-PLM" (Table 3): the labeled 10 % ground truth plus
# pseudo labels on the unlabeled 90 % from VL-PLM over all 80 classes (class-
# agnostic Faster R-CNN proposal generator trained on the labeled split, CLIP)
# merged with the Supervised teacher's detections before thresholding and NMS
# (supplement B.1): the `pseudo_labeler` block below.
_base_ = [
    './faster-rcnn_r50_fpn_90k_coco-ssod-10pct_supervised.py',
    '../_base_/vlm/clip_rn50-openai.py'
]

pseudo_labels = 'pseudo_labels/ssod_1@10_vl-plm.json'
# Their labeler, run on the unlabeled split (README.md): VL-PLM over all 80
# classes fused with the teacher's detections before tau and NMS.
pseudo_labeler = dict(
    type='VLPLMLabeler',
    proposal_config=('configs/vl_plm/faster-rcnn_r50_fpn_class-agnostic_'
                     '90k_coco-ssod-10pct.py'),
    proposal_checkpoint=None,
    clip={{_base_.clip}},
    targets='all',
    teacher='work_dirs/teacher_1@10_unlabeled.bbox.json')

train_dataloader = dict(
    dataset=dict(
        type='PseudoLabelDataset',
        pseudo_ann_file=pseudo_labels,
        pseudo_score_thr=0.0,  # the json is thresholded at tau=0.8 already
        pseudo_mask=None))
