# DITO on OVD-Shapes, +SWL row: shifted-window learning (Sec. 3.3,
# Algorithm 1): a second pass rolled by s = M // 2 = 4 patches, border
# masks, unrolled and averaged, in training and inference.
_base_ = './mask-rcnn_tiny-vit_simple-fpn_window_ovd-shapes.py'

model = dict(backbone=dict(shifted=True, shift_mode='paper'))
