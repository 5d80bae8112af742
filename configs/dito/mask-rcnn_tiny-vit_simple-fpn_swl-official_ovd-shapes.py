# DITO on OVD-Shapes, SWL as the official code does it: the patch grid
# rolled before the position embedding is added, no attention masks for the
# wrapped patches (the question: do the masks matter?).
_base_ = './mask-rcnn_tiny-vit_simple-fpn_window_ovd-shapes.py'

model = dict(backbone=dict(shifted=True, shift_mode='official'))
