# RegionCLIP zero-shot inference on LVIS v1 with ground-truth boxes (Table 4
# "GT", LVIS box mAP over the 1203 classes; paper: CLIP RN50 42.2,
# RegionCLIP CC3M RN50 44.4; Fig. 1b: CLIP's top-1 accuracy on LVIS boxes
# ~19%): the annotated boxes of lvis_v1_val are classified by the CLIP's
# region embeddings (RoIAlign 14 on C4, layer4 + attention pool) against
# the 1203 class embeddings, softmax at tau = 0.01; no RPN, no fusion, no
# NMS; up to 300 (box, class) pairs per image for AP. Reports box AP / APr
# / APc / APf and region classification accuracy over all boxes (`acc`),
# the base boxes (`acc_base`: frequent + common) and the novel boxes
# (`acc_novel`: rare). RegionClassificationMetric reads the novel = rare
# classes from lvis_v1_train.json, whose category frequencies define the
# OV-LVIS split (as the transfer configs' novel_classes).
# This config is the teacher (plain CLIP); -regionclip evaluates the student.
#
# Local files (nothing is downloaded): checkpoints/clip/RN50-openai.pt,
#   data/lvis_v1/ (annotations/lvis_v1_val.json and its images, and
#   annotations/lvis_v1_train.json for the rare split) and the 1203-class
#   vocabulary (as the transfer configs).
# Test (no checkpoint argument: every weight comes from the files above):
#   python tools/test.py configs/regionclip/zero-shot_rn50-c4_gt-boxes_ov-lvis.py
_base_ = './faster-rcnn_rn50-c4_clip-init_1x_ov-lvis.py'

model = dict(type='RegionCLIPZeroShotDetector', proposals='gt',
             temperature=0.01, objectness_fusion='none',
             offline_rpn_checkpoint=None,
             test_cfg=dict(rcnn=dict(max_per_img=300)))

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
         novel_classes={{_base_.lvis_train_json}}),   # its rare classes
    dict(type='OVLVISMetric',
         ann_file='data/lvis_v1/annotations/lvis_v1_val.json',
         metric='bbox'),
]
test_evaluator = val_evaluator
