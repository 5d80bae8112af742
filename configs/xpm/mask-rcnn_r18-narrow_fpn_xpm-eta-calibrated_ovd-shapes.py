# XPM student with eta calibrated for this setting (Sec. 4.1, footnote 2:
# eta is "the smallest average noise level" of captioned images, measured on
# a trained student). tools/xpm/calibrate_eta.py measures it on the XPM
# student (eta = 0.01) and writes the json named here; the stages pass
# theirs (configs/xpm/ovd-shapes.stages.yml). Everything else is the XPM
# student's.
_base_ = './mask-rcnn_r18-narrow_fpn_xpm_ovd-shapes.py'

model = dict(
    roi_head=dict(eta='data/ovd_shapes/pseudo_labels/xpm_eta.json'))
