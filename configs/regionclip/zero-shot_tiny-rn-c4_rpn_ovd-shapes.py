# RegionCLIP zero-shot detection with RPN boxes (Sec. 3.2 "Zero-shot
# inference", Sec. 4 (implementation details), Table 4 "RPN"): the base-class
# RPN proposes (NMS 0.9, the paper's value; 300 per image), the CLIP's region
# embeddings (RoIAlign on C4, layer4 + attention pool) are compared with the 20
# class embeddings (softmax at tau = 0.01) and fused with the RPN objectness by
# the geometric mean; final per-class NMS 0.9 (paper; the official code uses
# 0.5 here: test_cfg.rcnn.nms.iou_threshold=0.5).
# This config is the teacher (plain CLIP); -regionclip evaluates the student.
_base_ = './faster-rcnn_tiny-rn-c4_clip-init_ovd-shapes.py'

model = dict(
    type='RegionCLIPZeroShotDetector', proposals='rpn', temperature=0.01,
    objectness_fusion='geometric',
    proposal_cfg=dict(test=dict(nms=dict(type='nms', iou_threshold=0.9))),
    test_cfg=dict(rcnn=dict(score_thr=0.0,
                            nms=dict(type='nms', iou_threshold=0.9),
                            max_per_img=100)))
