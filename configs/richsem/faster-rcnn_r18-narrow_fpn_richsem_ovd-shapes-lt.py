# RichSem on OVD-Shapes, row 4: the method. Image-label data with hard labels
# and whole-image boxes (row 3) plus the teacher's soft labels and the
# semantic branch on both sources (row 2's teacher and branch): L = L_loc +
# L_cls + 0.5 L_soft (Eq. 5), soft targets from the whole-image box of the
# augmented image for image-label data (Eq. 2).
_base_ = './faster-rcnn_r18-narrow_fpn_hard-imglabel_ovd-shapes-lt.py'

_soft = 'faster-rcnn_r18-narrow_fpn_soft-det_ovd-shapes-lt.py'
teacher = dict(
    type='CLIPSoftLabelTeacher',
    clip=dict(name='ovd-tiny-rn',
              checkpoint='checkpoints/ovd_shapes/ovd-tiny-rn.pt'),
    vocabulary={{_base_.vocabulary}},
    layer='layer3')
model = dict(
    teacher=teacher,
    roi_head=dict(
        semantic_branch=dict(
            type='SemanticBranch',
            in_channels=64 * 7 * 7,
            vocabulary={{_base_.vocabulary}},
            num_fcs=2,
            fc_channels=256,
            loss_weight=0.5)))
