# The official RegionCLIP OV-COCO detector (microsoft/RegionCLIP
# regionclip_finetuned-coco_rn50.pth; Table 1 "Ours CC3M RN50", paper:
# generalized AP50 novel 31.4, base 57.1, all 50.4) converted to ovd_ext,
# for testing with tools/test.py. The C4 detector of
# faster-rcnn_rn50-c4_regionclip-init_1x_ov-coco.py (CLIP RN50 C4, RoIAlign
# 14 on stride 16, layer4 + attention pool, cosine logits at 100, zero
# background, class-agnostic box regression) whose offline RPN has the
# official COCO layout, which the converter's report names ("offline RPN:
# detectron2 R50-C4 -> ..."): the RPN of a detectron2 Mask R-CNN R50-C4
# trained on the 48 base classes (rpn_coco_48.pth): a caffe-style ResNet-50
# up to res4 (FrozenBN; mmdet ResNet num_stages=3, out_indices=(2, )), no
# neck, one 3x3 conv of 1024 channels, 15 anchors per location at stride 16
# (sizes 32..512 = scales 2..32 x stride 16, ratios 0.5 / 1 / 2),
# size-major (scale_major=False), BGR input minus the caffe mean, std 1;
# detectron2's C4 RPN test setting (the official offline RPN is always in
# eval mode): 6000 boxes before NMS 0.7, 1000 after. Detections: score
# threshold 0.001, NMS 0.5, 100 per image (the official config).
#
# Where we differ: the class embeddings are our 65-class vocabulary
# (tools/embed_vocabulary.py: RN50 text tower, 80 ImageNet prompts), not
# the official coco_65 embedding file, so numbers can differ slightly
# (--save-classifier exports the checkpoint's 48 base-class rows only).
#
# Local files (nothing is downloaded):
#   checkpoints/clip/RN50-openai.pt (builds the modules; the converted
#     checkpoint then replaces every weight);
#   data/coco/ as configs/ov_baselines/README.md, and the 65-class vocabulary:
#     python tools/embed_vocabulary.py --config configs/regionclip/faster-rcnn_rn50-c4_regionclip-official_ov-coco.py
#   the converted checkpoint (from the official Google Drive folder
#   regionclip/, fetched on a machine with internet access):
#     python tools/model_converters/regionclip_to_mmdet.py \
#         regionclip_finetuned-coco_rn50.pth \
#         checkpoints/regionclip/regionclip_finetuned-coco_rn50_mmdet.pth
#   (the report must list offline_rpn.* tensors and the R50-C4 note; a
#   source without them needs the RPN weights through offline_rpn_checkpoint,
#   a file with backbone.* / rpn_head.* keys in this layout.)
# Test:
#   python tools/test.py configs/regionclip/faster-rcnn_rn50-c4_regionclip-official_ov-coco.py \
#       checkpoints/regionclip/regionclip_finetuned-coco_rn50_mmdet.pth
_base_ = './faster-rcnn_rn50-c4_clip-init_1x_ov-coco.py'

model = dict(
    offline_rpn=dict(
        _delete_=True,
        type='RPN',
        # detectron2 R50: BGR, caffe mean, std 1
        data_preprocessor=dict(type='DetDataPreprocessor',
                               mean=[103.530, 116.280, 123.675],
                               std=[1.0, 1.0, 1.0], bgr_to_rgb=False,
                               pad_size_divisor=32),
        backbone=dict(type='ResNet', depth=50, num_stages=3,
                      strides=(1, 2, 2), dilations=(1, 1, 1),
                      out_indices=(2, ), frozen_stages=1,
                      norm_cfg=dict(type='BN', requires_grad=False),
                      norm_eval=True, style='caffe'),
        neck=None,
        rpn_head=dict(
            type='RPNHead', in_channels=1024, feat_channels=1024,
            anchor_generator=dict(type='AnchorGenerator',
                                  scales=[2, 4, 8, 16, 32],
                                  ratios=[0.5, 1.0, 2.0], strides=[16],
                                  scale_major=False),
            bbox_coder=dict(type='DeltaXYWHBBoxCoder',
                            target_means=[.0, .0, .0, .0],
                            target_stds=[1.0, 1.0, 1.0, 1.0]),
            loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=True,
                          loss_weight=1.0),
            loss_bbox=dict(type='L1Loss', loss_weight=1.0)),
        train_cfg=None,
        test_cfg=dict(rpn=dict(nms_pre=6000, max_per_img=1000,
                               nms=dict(type='nms', iou_threshold=0.7),
                               min_bbox_size=0))),
    # the converted checkpoint carries offline_rpn.*
    offline_rpn_checkpoint=None,
    proposal_cfg=dict(
        train=dict(nms_pre=6000, max_per_img=1000,
                   nms=dict(type='nms', iou_threshold=0.7), min_bbox_size=0),
        test=dict(nms_pre=6000, max_per_img=1000,
                  nms=dict(type='nms', iou_threshold=0.7), min_bbox_size=0)))
