# RegionCLIP transfer on OVD-Shapes (Table 1): the C4 detector initialised
# from the RegionCLIP-pretrained student (regionclip_tiny-rn_pretrain_
# ovd-shapes.py) instead of the plain CLIP; everything else, schedule included,
# as the -clip-init baseline it inherits.
_base_ = './faster-rcnn_tiny-rn-c4_clip-init_ovd-shapes.py'

student = dict(
    type='OpenCLIP', name='ovd-tiny-rn',
    checkpoint='checkpoints/ovd_shapes/ovd-tiny-rn.pt',
    image_checkpoint='checkpoints/regionclip/regionclip_tiny-rn_pretrain_ovd-shapes.pth',
    image_prefix='student.model.visual.')
model = dict(backbone=dict(clip=student),
             roi_head=dict(shared_head=dict(clip=student)))
