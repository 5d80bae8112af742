# RegionCLIP Table 6 ablation on OVD-Shapes: pretraining regions are 100
# random boxes per image (RandomRegions: "we replace the RPN proposals by
# randomly sampling the same number of image regions") instead of the
# base-class RPN's; everything else as regionclip_tiny-rn_pretrain_ovd-shapes.py.
# No proposal file is needed. The paper: random boxes cost 2.0 AP50 of
# zero-shot inference with GT boxes and leave transfer about equal.
# Evaluate the student like the RPN-region one, e.g.
#   python tools/test.py configs/regionclip/zero-shot_tiny-rn-c4_gt-boxes_ovd-shapes-regionclip.py \
#       --cfg-options model.backbone.clip.image_checkpoint=STUDENT \
#       model.roi_head.shared_head.clip.image_checkpoint=STUDENT
_base_ = './regionclip_tiny-rn_pretrain_ovd-shapes.py'

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='RandomRegions', num_boxes=100, min_size=8),
    dict(type='RandomCaption'),
    dict(type='ProposalBroadcaster',
         transforms=[dict(type='Resize', scale={{_base_.image_scale}},
                          keep_ratio=True)]),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor', 'caption'))
]
train_dataloader = dict(dataset=dict(proposal_file=None,
                                     pipeline=train_pipeline))
