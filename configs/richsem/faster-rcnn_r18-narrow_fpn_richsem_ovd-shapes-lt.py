# RichSem on OVD-Shapes, row 4: the method. Image-label data with hard labels
# and whole-image boxes (row 3) plus the teacher's soft labels and the
# semantic branch on both sources (row 2's teacher and branch, defined in the
# baseline config): L = L_loc + L_cls + 0.5 L_soft (Eq. 5), soft targets from
# the whole-image box of the augmented image for image-label data (Eq. 2).
_base_ = './faster-rcnn_r18-narrow_fpn_hard-imglabel_ovd-shapes-lt.py'

model = dict(
    teacher={{_base_.ovd_shapes_teacher}},
    roi_head=dict(semantic_branch={{_base_.ovd_shapes_semantic_branch}}))
