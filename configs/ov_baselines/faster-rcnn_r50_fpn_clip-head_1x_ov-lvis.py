# Box-only (Faster R-CNN) variant of the OV-LVIS base-only baseline: the Mask
# R-CNN config with the mask branch removed and box AP (APr/APc/APf) only.
_base_ = './mask-rcnn_r50_fpn_clip-head_1x_ov-lvis.py'

model = dict(
    data_preprocessor=dict(pad_mask=False),
    roi_head=dict(mask_roi_extractor=None, mask_head=None))
val_evaluator = dict(metric='bbox')
test_evaluator = val_evaluator
