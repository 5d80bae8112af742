# VL-PLM OVD student on OVD-Shapes: the base-only baseline (narrow-R18 Mask
# R-CNN + CLIPBBoxHead over the tiny CLIP's text embeddings, same schedule) on
# base ground truth + novel pseudo labels. Novel classes are trained (no
# longer masked): they now have pseudo boxes. Make the pseudo labels with the
# proposal generator mask-rcnn_r18-narrow_fpn_class-agnostic_ovd-shapes-base.py
# and tools/gen_pseudo_labels.py (README.md); pseudo labels get box-shaped
# masks. Test: base / novel AP50 and LVIS AP / APr, as the baseline.
_base_ = '../ov_baselines/mask-rcnn_r18-narrow_fpn_clip-head_ovd-shapes.py'

pseudo_labels = 'pseudo_labels/vl-plm_novel_train.json'

model = dict(roi_head=dict(bbox_head=dict(novel_classes=None)))
train_dataloader = dict(
    dataset=dict(
        type='PseudoLabelDataset',
        pseudo_ann_file=pseudo_labels,
        pseudo_score_thr=0.0,  # the json is thresholded at tau=0.8 already
        pseudo_mask='box'))
