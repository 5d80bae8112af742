# RegionCLIP zero-shot detection on COCO with RPN boxes (Sec. 3.2 "Zero-shot
# inference", Sec. 4 (implementation details), Table 4 "RPN", COCO "All" AP50
# over the 65 OV-COCO classes; paper: CLIP RN50 25.5, RegionCLIP CC3M RN50
# 26.8). No detection training: the LVIS-base RPN
# (rpn_r50_fpn_1x_ov-lvis-base.py: "RPN was the same as pretraining stage")
# proposes 1000 boxes per image after NMS 0.9 (the paper's "NMS threshold was
# set to 0.9"; the official offline-RPN NMS); the CLIP's region embeddings
# (RoIAlign 14 on C4, layer4 + attention pool) are compared with the 65 class
# embeddings, softmax at tau = 0.01, fused with the RPN objectness by the
# geometric mean; final per-class NMS 0.9 (paper; the official code uses 0.5
# here: --cfg-options model.test_cfg.rcnn.nms.iou_threshold=0.5), 100 per
# image.
# This config is the teacher (plain OpenAI CLIP RN50); -regionclip
# evaluates the pretrained student.
#
# Local files (nothing is downloaded):
#   checkpoints/clip/RN50-openai.pt; data/coco/ and the 65-class vocabulary
#   (as faster-rcnn_rn50-c4_clip-init_1x_ov-coco.py);
#   checkpoints/regionclip/rpn_r50_fpn_1x_ov-lvis-base.pth (the trained RPN).
# Test: every weight comes from the files above, so tools/test.py takes no
# checkpoint argument:
#   python tools/test.py configs/regionclip/zero-shot_rn50-c4_rpn_ov-coco.py
# (the same for every zero-shot_*.py config, with its own name).
_base_ = './faster-rcnn_rn50-c4_clip-init_1x_ov-coco.py'

model = dict(
    type='RegionCLIPZeroShotDetector', proposals='rpn', temperature=0.01,
    objectness_fusion='geometric',
    offline_rpn_checkpoint='checkpoints/regionclip/rpn_r50_fpn_1x_ov-lvis-base.pth',
    proposal_cfg=dict(test=dict(nms_pre=1000, max_per_img=1000,
                                nms=dict(type='nms', iou_threshold=0.9))),
    test_cfg=dict(rcnn=dict(score_thr=0.0,
                            nms=dict(type='nms', iou_threshold=0.9),
                            max_per_img=100)))
