# RichSem on OVD-Shapes, row 2: + the semantic branch on detection data only
# (Table 3h "Only on LVIS", lambda_soft = 0.5). The teacher (ovd-tiny-rn,
# frozen) scores every ground-truth box of the augmented batch (Eq. 2); the
# semantic branch (2 FCs of 256 on the 64 x 7 x 7 RoI features, its own
# projection to the text space) learns those soft labels on the positive
# RoIs by KL (Eq. 4). The branch is train-only (not run at test time, not in
# the zoo weights).
# Teacher layer: the paper's Pooler is RoIAlign on "the entire feature maps"
# (Eq. 2) without naming the layer; the official RN50 teacher pools layer4.
# For the tiny CLIP at 192 px, layer4 is a 6 x 6 map and classifies val
# ground-truth boxes at 29.9% (20 classes), the C4 head (RoIAlign on layer3,
# then layer4 + attention pool, as RegionCLIP) at 49.7%, so these configs
# use layer3 (configs/richsem/README.md).
_base_ = './faster-rcnn_r18-narrow_fpn_baseline_ovd-shapes-lt.py'

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
