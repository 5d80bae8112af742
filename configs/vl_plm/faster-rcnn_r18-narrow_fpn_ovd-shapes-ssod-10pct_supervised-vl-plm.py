# SSOD on OVD-Shapes, "Supervised + VL-PLM" (VL-PLM Table 3): "Supervised +
# PLs" with VL-PLM's pseudo labels over all 20 classes fused with the
# teacher's (supplement B.1, Fig. 5): the class-agnostic Faster R-CNN trained
# on the labeled split proposes regions (RPN NMS 0.3, top 1000, 10 RoI
# refinements), the tiny CLIP scores them (1x + 1.5x crops, Eq. 4-5), the
# teacher's detections join them before tau = 0.8 and per-class NMS, each box
# keeping its own score. Only the pseudo-label file differs from
# "Supervised + PLs".
#
# Label space: 'novel' = the targets, here every class (SSOD has no unseen
# class, so no extra background classes); 100 regions per image as the OVD
# labeler (images have at most 5 objects).
_base_ = [
    './faster-rcnn_r18-narrow_fpn_ovd-shapes-ssod-10pct_supervised-pls.py'
]

pseudo_labels = 'pseudo_labels/ssod-1@10_vl-plm.json'
pseudo_labeler = dict(
    _delete_=True,
    type='VLPLMLabeler',
    proposal_config=('configs/vl_plm/'
                     'faster-rcnn_r18-narrow_fpn_class-agnostic_'
                     'ovd-shapes-ssod-10pct.py'),
    proposal_checkpoint=None,
    # the tiny CLIP of the OVD-Shapes configs and its 20-class embeddings
    clip={{_base_.clip}},
    vocabulary={{_base_.vocabulary}},
    targets='all',
    label_space='novel',
    tau=0.8,
    max_regions=100,
    teacher='work_dirs/ssod_teacher.bbox.json')
pseudo_label_run = dict(workers=2)
pseudo_label_io = dict(out='data/ovd_shapes/' + pseudo_labels)

train_dataloader = dict(dataset=dict(pseudo_ann_file=pseudo_labels))
