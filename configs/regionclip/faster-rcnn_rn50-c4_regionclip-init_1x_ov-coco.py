# RegionCLIP transfer on OV-COCO (Table 1, "Ours CC3M RN50 / Ours RN50-C4";
# paper: generalized AP50 novel 31.4, base 57.1, all 50.4): the C4 detector
# initialised from the RegionCLIP-pretrained student
# (regionclip_rn50_pretrain_cc3m.py) instead of the plain CLIP; everything
# else (offline base-class RPN, background weight 0.2, focal gamma 0.5,
# RoIAlign 14 on C4, SGD lr 0.002 x batch 16 x 90k) as the -clip-init
# baseline it inherits. The COCO Caption row (paper 26.8 / 54.8 / 47.5):
# --cfg-options with the coco-cap student file in both image_checkpoint
# fields below.
#
# Local files (nothing is downloaded): as the -clip-init config, plus
#   checkpoints/regionclip/regionclip_rn50_pretrain_cc3m.pth: a
#   RegionCLIPPretrainer checkpoint (its student.model.visual.* weights;
#   see regionclip_rn50_pretrain_cc3m.py).
_base_ = './faster-rcnn_rn50-c4_clip-init_1x_ov-coco.py'

student = dict(
    image_checkpoint='checkpoints/regionclip/regionclip_rn50_pretrain_cc3m.pth',
    image_prefix='student.model.visual.')
model = dict(backbone=dict(clip=student),
             roi_head=dict(shared_head=dict(clip=student)))
