# SSOD on OVD-Shapes, "STAC + VL-PLM" (VL-PLM Table 3: "we only replace its
# PLs with ours that are used to train Supervised + VL-PLM"): the STAC student
# unchanged, its pseudo labels the fused VL-PLM + teacher labels (tau 0.8)
# that faster-rcnn_r18-narrow_fpn_ovd-shapes-ssod-10pct_supervised-vl-plm.py's
# `pseudo_labeler` block writes (generate them with that config).
_base_ = './faster-rcnn_r18-narrow_fpn_ovd-shapes-ssod-10pct_stac.py'

pseudo_labels = 'pseudo_labels/ssod-1@10_vl-plm.json'
# no labeler of its own: the file comes from the Supervised + VL-PLM config
pseudo_labeler = None
pseudo_label_io = None
pseudo_labeled_dataset = _base_.pseudo_labeled_dataset
pseudo_labeled_dataset.pseudo_ann_file = pseudo_labels
train_dataloader = dict(
    dataset=dict(datasets=[_base_.labeled_dataset, pseudo_labeled_dataset]))
