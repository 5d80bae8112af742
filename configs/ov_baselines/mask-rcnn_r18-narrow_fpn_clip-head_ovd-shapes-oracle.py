# Oracle for the OVD-Shapes baseline: the same detector trained with the
# ground truth of ALL 20 classes (no novel dropping, no novel masking). Its
# novel AP is the ceiling that open-vocabulary methods are measured against.
_base_ = './mask-rcnn_r18-narrow_fpn_clip-head_ovd-shapes.py'

model = dict(roi_head=dict(bbox_head=dict(novel_classes=None)))
train_dataloader = dict(dataset=dict(drop_novel=False))
