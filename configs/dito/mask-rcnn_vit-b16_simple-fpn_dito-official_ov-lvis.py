# DITO on OV-LVIS with the official code's choices instead of the paper's
# (google-research fvlm/dito): the patch grid rolled before the position
# embedding with no border masks, ensemble exponent 0.35 for base classes,
# renormalised and multiplied by the RPN score cubed, VLM score from the
# frozen backbone's top map on RoIs shrunk by 0.7, background weight 0.9.
_base_ = './mask-rcnn_vit-b16_simple-fpn_dito_ov-lvis.py'

model = dict(
    backbone=dict(shift_mode='official'),
    roi_head=dict(
        alpha=0.35,
        beta=0.65,
        renormalize=True,
        rpn_power=3.0,
        bbox_head=dict(loss_cls=dict(bg_weight=0.9))),
    vlm_source='frozen',
    vlm_roi_scale=0.7)
