# Zero-shot detection on COCO with RPN boxes by the RegionCLIP-pretrained
# student (Table 4 "Ours CC3M RN50 RPN", paper: 26.8 All AP50); everything
# else as the teacher config it inherits.
# Local files: as the teacher config, plus
#   checkpoints/regionclip/regionclip_rn50_pretrain_cc3m.pth
#   (regionclip_rn50_pretrain_cc3m.py).
# Test (no checkpoint argument: every weight comes from the files above):
#   python tools/test.py configs/regionclip/zero-shot_rn50-c4_rpn_ov-coco-regionclip.py
_base_ = './zero-shot_rn50-c4_rpn_ov-coco.py'

student = dict(
    image_checkpoint='checkpoints/regionclip/regionclip_rn50_pretrain_cc3m.pth',
    image_prefix='student.model.visual.')
model = dict(backbone=dict(clip=student),
             roi_head=dict(shared_head=dict(clip=student)))
