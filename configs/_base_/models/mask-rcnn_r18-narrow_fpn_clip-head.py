# A CPU-sized Mask R-CNN for OVD-Shapes: ResNet-18 at quarter width (stages of
# 16/32/64/128 channels) trained from scratch, a 64-channel FPN, anchors from
# 16 px, a 256-d box head (128 sampled RoIs per image) and a 2-conv 32-channel mask
# head. Same modules as the R50-FPN
# baseline (CLIPBBoxHead, class-agnostic mask head); only sizes differ.
_base_ = './mask-rcnn_r50_fpn_clip-head.py'

norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    backbone=dict(
        depth=18,
        base_channels=16,
        frozen_stages=-1,
        norm_cfg=norm_cfg,
        norm_eval=False,
        init_cfg=None),
    neck=dict(in_channels=[16, 32, 64, 128], out_channels=64),
    rpn_head=dict(
        in_channels=64,
        feat_channels=64,
        anchor_generator=dict(scales=[4])),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=64),
        bbox_head=dict(in_channels=64, fc_out_channels=256),
        mask_roi_extractor=dict(out_channels=64),
        mask_head=dict(num_convs=2, in_channels=64, conv_out_channels=32)),
    train_cfg=dict(
        rpn_proposal=dict(nms_pre=1000, max_per_img=500),
        rcnn=dict(sampler=dict(num=128))),
    test_cfg=dict(
        rpn=dict(nms_pre=500, max_per_img=300),
        rcnn=dict(score_thr=0.01, max_per_img=100)))
