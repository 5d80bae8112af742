# VL-PLM OVD student on OV-LVIS v1 with the open-vocabulary box head: the
# CLIPBBoxHead base-only baseline (federated sigmoid loss) trained on base
# ground truth + rare-class pseudo labels; rare classes are no longer excluded
# from the loss.
_base_ = '../ov_baselines/mask-rcnn_r50_fpn_clip-head_1x_ov-lvis.py'

pseudo_labels = 'pseudo_labels/vl-plm_ov-lvis_rare_train.json'

model = dict(roi_head=dict(bbox_head=dict(novel_classes=None)))
train_dataloader = dict(
    dataset=dict(
        dataset=dict(
            type='PseudoLabelLVISDataset',
            pseudo_ann_file=pseudo_labels,
            pseudo_score_thr=0.0,  # the json is thresholded at tau=0.8 already
            pseudo_mask='box')))
