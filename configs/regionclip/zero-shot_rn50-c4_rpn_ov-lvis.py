# RegionCLIP zero-shot detection on LVIS v1 with RPN boxes (Sec. 3.2 "Zero-shot
# inference", Sec. 4 (implementation details), Table 4 "RPN", LVIS box mAP over
# the 1203 classes; paper: CLIP RN50 9.2, RegionCLIP CC3M RN50 9.6): the
# LVIS-base RPN (the pretraining one) proposes 1000 boxes per image after NMS
# 0.9, the CLIP's region embeddings (RoIAlign 14 on C4, layer4 + attention
# pool) are compared with the 1203 class embeddings, softmax at tau = 0.01,
# fused with the RPN objectness by the geometric mean; final per-class NMS 0.9
# (paper; the official code uses 0.5: --cfg-options
# model.test_cfg.rcnn.nms.iou_threshold=0.5), 300 detections per image (LVIS).
# Reports box AP, APr (novel), APc, APf.
# This config is the teacher (plain OpenAI CLIP RN50); -regionclip
# evaluates the pretrained student.
#
# Local files (nothing is downloaded): checkpoints/clip/RN50-openai.pt,
#   data/lvis_v1/ and the 1203-class vocabulary (as
#   faster-rcnn_rn50-c4_clip-init_1x_ov-lvis.py),
#   checkpoints/regionclip/rpn_r50_fpn_1x_ov-lvis-base.pth (the trained RPN).
# Test (no checkpoint argument: every weight comes from the files above):
#   python tools/test.py configs/regionclip/zero-shot_rn50-c4_rpn_ov-lvis.py
_base_ = './faster-rcnn_rn50-c4_clip-init_1x_ov-lvis.py'

model = dict(
    type='RegionCLIPZeroShotDetector', proposals='rpn', temperature=0.01,
    objectness_fusion='geometric',
    offline_rpn_checkpoint='checkpoints/regionclip/rpn_r50_fpn_1x_ov-lvis-base.pth',
    proposal_cfg=dict(test=dict(nms_pre=1000, max_per_img=1000,
                                nms=dict(type='nms', iou_threshold=0.9))),
    test_cfg=dict(rcnn=dict(score_thr=0.0,
                            nms=dict(type='nms', iou_threshold=0.9),
                            max_per_img=300)))
