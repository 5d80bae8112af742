# VL-PLM OVD student on OV-COCO with the open-vocabulary box head: the
# CLIPBBoxHead base-only baseline (cosine classifier over CLIP RN50 text
# embeddings of the 65 classes) trained on base ground truth + novel pseudo
# labels. Novel classes are no longer masked out of the loss: they now have
# (pseudo) boxes.
_base_ = '../ov_baselines/mask-rcnn_r50_fpn_clip-head_1x_ov-coco.py'

pseudo_labels = 'pseudo_labels/vl-plm_ov-coco_novel_train2017.json'

model = dict(roi_head=dict(bbox_head=dict(novel_classes=None)))
train_dataloader = dict(
    dataset=dict(
        type='PseudoLabelDataset',
        pseudo_ann_file=pseudo_labels,
        pseudo_score_thr=0.0,  # the json is thresholded at tau=0.8 already
        pseudo_mask='box'))
