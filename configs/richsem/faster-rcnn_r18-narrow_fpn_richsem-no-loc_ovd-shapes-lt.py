# RichSem on OVD-Shapes without L_loc on the whole-image boxes (Table 3g,
# "+ L_soft" only): the image-label data give L_cls and L_soft but no box
# regression (RoI head) and, for a batch of image-label images only, no RPN
# box loss. Not a zoo row: an ablation reported in configs/richsem/README.md.
_base_ = './faster-rcnn_r18-narrow_fpn_richsem_ovd-shapes-lt.py'

model = dict(loc_on_image_labels=False)
