# RegionCLIP zero-shot inference with ground-truth boxes (Table 4, "GT"): the
# annotated boxes of the val images are classified by the CLIP's region
# embeddings (RoIAlign on C4, layer4 + attention pool) against the 20 class
# embeddings, softmax at tau = 0.01; no fusion, no NMS. Reports region
# classification accuracy (all / base / novel) and AP50. This config is the
# teacher (plain CLIP); the -regionclip one evaluates the pretrained student.
_base_ = './faster-rcnn_tiny-rn-c4_clip-init_ovd-shapes.py'

model = dict(type='RegionCLIPZeroShotDetector', proposals='gt',
             temperature=0.01, objectness_fusion='none',
             test_cfg=dict(rcnn=dict(max_per_img=100)))

test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    # annotations before Resize: the boxes are classified in input pixels
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale={{_base_.image_scale}}, keep_ratio=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor'))
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='RegionClassificationMetric',
         novel_classes={{_base_.ovd_shapes_novel_classes}}),
    dict(type='OVDCocoMetric',
         ann_file='data/ovd_shapes/annotations/instances_val.json',
         metric='bbox'),
]
test_evaluator = val_evaluator
