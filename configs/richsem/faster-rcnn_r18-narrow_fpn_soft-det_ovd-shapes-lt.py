# RichSem on OVD-Shapes, row 2: + the semantic branch on detection data only
# (Table 3h "Only on LVIS", lambda_soft = 0.5). The teacher (ovd-tiny-rn,
# frozen, RoIAlign on layer3: see the baseline config) scores every
# ground-truth box of the augmented batch (Eq. 2); the semantic branch (2 FCs
# of 256 on the 64 x 7 x 7 RoI features, its own projection to the text
# space) learns those soft labels on the positive RoIs by KL (Eq. 4). The
# branch is train-only (not run at test time, not in the zoo weights).
_base_ = './faster-rcnn_r18-narrow_fpn_baseline_ovd-shapes-lt.py'

model = dict(
    teacher={{_base_.ovd_shapes_teacher}},
    roi_head=dict(semantic_branch={{_base_.ovd_shapes_semantic_branch}}))
