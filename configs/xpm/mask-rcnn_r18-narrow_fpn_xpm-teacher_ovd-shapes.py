# XPM teacher on OVD-Shapes (Sec. 3.2.1): Mask R-CNN on the 15 base classes
# with an embedding head h_Emb (CLIPBBoxHead: region features projected into
# the word-embedding space, cosine scores against the classes' embeddings,
# zero background embedding) and a class-agnostic mask head h_Mask. It is the
# base-only open-vocabulary baseline (same narrow R18-FPN, data and 1,100
# iterations) with the paper's classification loss: cross-entropy with the
# background class down-weighted to 0.2 ("similar to [28]", Sec. 4.1) and no
# focal scaling (the baseline's gamma 0.5 is RegionCLIP's, not XPM's).
# Word embeddings are the tiny CLIP's text embeddings (the paper uses BERT;
# configs/xpm/README.md).
_base_ = '../ov_baselines/mask-rcnn_r18-narrow_fpn_clip-head_ovd-shapes.py'

model = dict(
    roi_head=dict(
        bbox_head=dict(
            loss_cls=dict(
                type='FocalScaledCrossEntropyLoss',
                bg_weight=0.2,
                focal_gamma=0.0))))

# XPM's two evaluation settings (Sec. 4.1): generalized (all images, all
# classes: the keys every OVD-Shapes row has) and constrained (base / novel
# classes on the images that contain them: *_constrained keys).
val_evaluator = [
    dict(
        type='OVDCocoMetric',
        ann_file='data/ovd_shapes/annotations/instances_val.json',
        metric=['bbox', 'segm'],
        constrained=True,
        format_only=False,
        backend_args=None),
    dict(
        type='OVLVISMetric',
        ann_file='data/ovd_shapes/annotations/lvis_v1_val.json',
        metric=['bbox', 'segm'],
        backend_args=None)
]
test_evaluator = val_evaluator
