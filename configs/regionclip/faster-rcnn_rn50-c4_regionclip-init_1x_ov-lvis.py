# RegionCLIP transfer on OV-LVIS v1 (Table 2, "Ours CC3M RN50 / Ours
# RN50-C4 1x"; paper, with masks: APr 17.1, APc 27.4, APf 34.0, mAP 28.2):
# the C4 detector initialised from the RegionCLIP-pretrained student
# (regionclip_rn50_pretrain_cc3m.py); everything else (LVIS-base offline RPN,
# background weight 0.8, focal gamma 0.0, 1203-class vocabulary, 180k x 16)
# as the -clip-init config it inherits.
#
# Local files (nothing is downloaded): as the -clip-init config, plus
#   checkpoints/regionclip/regionclip_rn50_pretrain_cc3m.pth (see
#   faster-rcnn_rn50-c4_regionclip-init_1x_ov-coco.py).
_base_ = './faster-rcnn_rn50-c4_clip-init_1x_ov-lvis.py'

student = dict(
    image_checkpoint='checkpoints/regionclip/regionclip_rn50_pretrain_cc3m.pth',
    image_prefix='student.model.visual.')
model = dict(backbone=dict(clip=student),
             roi_head=dict(shared_head=dict(clip=student)))
