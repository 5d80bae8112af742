# SSOD "STAC + VL-PLM" on COCO 10 % (Table 3): the STAC student with the
# fused VL-PLM + teacher pseudo labels (tau 0.8) that
# faster-rcnn_r50_fpn_90k_coco-ssod-10pct_supervised-vl-plm.py's labeler
# writes; nothing else changes.
_base_ = './faster-rcnn_r50_fpn_90k_coco-ssod-10pct_stac.py'

pseudo_labels = 'pseudo_labels/ssod_1@10_vl-plm.json'
# no labeler of its own: the file comes from the Supervised + VL-PLM config
pseudo_labeler = None
pseudo_labeled_dataset = _base_.pseudo_labeled_dataset
pseudo_labeled_dataset.pseudo_ann_file = pseudo_labels
train_dataloader = dict(
    dataset=dict(datasets=[_base_.labeled_dataset, pseudo_labeled_dataset]))
