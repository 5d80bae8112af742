# DITO on OVD-Shapes, +REP row: the SimpleFPN, RPN objectness conv and box
# head start from region-centric pretraining (dito_tiny-vit_rep_ovd-shapes.py,
# Sec. 3.2) instead of random initialisation. The stage declaration points
# load_from at the REP checkpoint of the same run.
_base_ = './mask-rcnn_tiny-vit_simple-fpn_window_ovd-shapes.py'

load_from = 'checkpoints/dito/dito_tiny-vit_rep_ovd-shapes.pth'
