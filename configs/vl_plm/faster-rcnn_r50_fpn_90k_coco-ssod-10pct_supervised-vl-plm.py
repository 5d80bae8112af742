# SSOD "Supervised + VL-PLM" (Table 3): the labeled 10 % ground truth plus
# pseudo labels on the unlabeled 90 % from VL-PLM over all 80 classes (class-
# agnostic Faster R-CNN proposal generator trained on the labeled split, CLIP)
# merged with the Supervised teacher's detections before thresholding and NMS
# (supplement B.1): tools/gen_pseudo_labels.py --targets all --teacher ...
_base_ = './faster-rcnn_r50_fpn_90k_coco-ssod-10pct_supervised.py'

pseudo_labels = 'pseudo_labels/ssod_1@10_vl-plm.json'

train_dataloader = dict(
    dataset=dict(
        type='PseudoLabelDataset',
        pseudo_ann_file=pseudo_labels,
        pseudo_score_thr=0.0,  # the json is thresholded at tau=0.8 already
        pseudo_mask=None))
