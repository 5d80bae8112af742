# Zero-shot region classification on LVIS v1 with ground-truth boxes by the
# RegionCLIP-pretrained student (Table 4 "Ours CC3M RN50 GT", paper: 44.4
# mAP); everything else as the teacher config it inherits.
# Local files: as the teacher config, plus
#   checkpoints/regionclip/regionclip_rn50_pretrain_cc3m.pth.
_base_ = './zero-shot_rn50-c4_gt-boxes_ov-lvis.py'

student = dict(
    image_checkpoint='checkpoints/regionclip/regionclip_rn50_pretrain_cc3m.pth',
    image_prefix='student.model.visual.')
model = dict(backbone=dict(clip=student),
             roi_head=dict(shared_head=dict(clip=student)))
