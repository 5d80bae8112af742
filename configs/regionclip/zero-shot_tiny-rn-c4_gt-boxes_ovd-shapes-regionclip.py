# Zero-shot region classification with ground-truth boxes by the
# RegionCLIP-pretrained student; everything else as the teacher config.
_base_ = './zero-shot_tiny-rn-c4_gt-boxes_ovd-shapes.py'

student = dict(
    type='OpenCLIP', name='ovd-tiny-rn',
    checkpoint='checkpoints/ovd_shapes/ovd-tiny-rn.pt',
    image_checkpoint='checkpoints/regionclip/regionclip_tiny-rn_pretrain_ovd-shapes.pth',
    image_prefix='student.model.visual.')
model = dict(backbone=dict(clip=student),
             roi_head=dict(shared_head=dict(clip=student)))
