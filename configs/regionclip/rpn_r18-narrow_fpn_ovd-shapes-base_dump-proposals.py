# Precompute RegionCLIP's pretraining regions once (Sec. 3.1: "we use RPN to
# propose image regions"): the base-class RPN over the captioned training
# images, top 300 per image after NMS 0.7 (pretraining takes the best 100, the
# paper's setting, or samples 100 of the 300, the official one), written by
# mmdet's DumpProposals in the pkl that CaptionDataset(proposal_file=) reads:
#   python tools/test.py configs/regionclip/rpn_r18-narrow_fpn_ovd-shapes-base_dump-proposals.py \
#       RPN_CHECKPOINT --cfg-options test_evaluator.output_dir=work_dirs/regionclip/proposals
_base_ = './rpn_r18-narrow_fpn_ovd-shapes-base.py'

model = dict(test_cfg=dict(rpn=dict(max_per_img=300)))

test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='Resize', scale={{_base_.image_scale}}, keep_ratio=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor'))
]
test_dataloader = dict(
    _delete_=True,
    batch_size=8,
    num_workers=1,
    persistent_workers=False,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='CaptionDataset',
        data_root='data/ovd_shapes/',
        ann_file='annotations/captions_train.json',
        data_prefix=dict(img='images/'),
        test_mode=True,
        pipeline=test_pipeline))
test_evaluator = dict(
    _delete_=True,
    type='DumpProposals',
    output_dir='work_dirs/regionclip/proposals',
    proposals_file='proposals_train.pkl',
    num_max_proposals=300)
