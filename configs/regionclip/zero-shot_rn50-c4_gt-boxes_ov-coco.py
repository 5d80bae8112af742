# RegionCLIP zero-shot inference on COCO with ground-truth boxes (Table 4
# "GT", COCO "All" AP50 over the 65 OV-COCO classes; paper: CLIP RN50 58.3,
# RegionCLIP CC3M RN50 61.4): the annotated boxes of val2017 are classified
# by the CLIP's region embeddings (RoIAlign 14 on C4, layer4 + attention
# pool) against the 65 class embeddings, softmax at tau = 0.01; no RPN, no
# fusion, no NMS. Reports region classification accuracy (all / base /
# novel boxes) and box AP50. This config is the teacher (plain CLIP); the
# -regionclip one evaluates the pretrained student.
#
# Local files (nothing is downloaded): checkpoints/clip/RN50-openai.pt,
#   data/coco/ and the 65-class vocabulary (as the transfer configs).
# Test (no checkpoint argument: every weight comes from the files above):
#   python tools/test.py configs/regionclip/zero-shot_rn50-c4_gt-boxes_ov-coco.py
_base_ = './faster-rcnn_rn50-c4_clip-init_1x_ov-coco.py'

model = dict(type='RegionCLIPZeroShotDetector', proposals='gt',
             temperature=0.01, objectness_fusion='none',
             offline_rpn_checkpoint=None,
             test_cfg=dict(rcnn=dict(max_per_img=100)))

test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    # annotations before Resize: the boxes are classified in input pixels
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=(1333, 800), keep_ratio=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor'))
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='RegionClassificationMetric',
         novel_classes={{_base_.ov_coco_novel_classes}}),
    dict(type='OVDCocoMetric',
         ann_file='data/coco/annotations/instances_val2017.json',
         metric='bbox'),
]
test_evaluator = val_evaluator
