# XPM student without noise estimation (Fig. 6's "+ L_M" without
# L_X^alpha): the same student, data and budget, with the plain BCE of Eq. 5
# on the pseudo masks (mmdet's FCNMaskHead) and the unweighted cross-modal
# loss L_X of Eq. 3 (alpha = 1).
_base_ = './mask-rcnn_r18-narrow_fpn_xpm_ovd-shapes.py'

model = dict(
    roi_head=dict(noise=False, mask_head=dict(type='FCNMaskHead')))
