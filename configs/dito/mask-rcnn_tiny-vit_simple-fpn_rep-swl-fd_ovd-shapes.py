# DITO on OVD-Shapes, the full method: REP initialisation + SWL + FD
# (Table 4a, last row).
_base_ = './mask-rcnn_tiny-vit_simple-fpn_window_ovd-shapes.py'

load_from = 'checkpoints/dito/dito_tiny-vit_rep_ovd-shapes.pth'
model = dict(
    backbone=dict(shifted=True, shift_mode='paper'),
    distill=dict(loss_weight=1.0))
