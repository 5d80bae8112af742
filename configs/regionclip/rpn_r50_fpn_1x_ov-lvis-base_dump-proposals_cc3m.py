# Precompute RegionCLIP's pretraining regions on CC3M once (Sec. 3.1: "we use
# RPN to propose image regions"; Sec. 4 (implementation details): the RPN "was
# trained with the base categories of LVIS dataset"): the LVIS-base RPN
# (rpn_r50_fpn_1x_ov-lvis-base.py) over every captioned image, NMS 0.7, top 300
# per image (pretraining takes the best 100, the paper's setting, or samples
# 100 of the 300, the official one: LoadCaptionProposals sample_from=300), at
# the pretraining scale (short side 800, long <= 1333). mmdet's DumpProposals
# writes the pkl that CaptionDataset(proposal_file=) reads (keyed by '<parent
# dir>/<file name>' of each image, boxes in original image pixels, sorted by
# score).
#
# Size: 300 boxes x 5 float32 per image is ~6 kB, ~18 GB for 3M CC3M images,
# held in memory when dumped and when read; num_max_proposals=100 (the
# paper's 100 regions) makes it 6 GB.
#
# Local files (nothing is downloaded):
#   data/cc3m/annotations/captions_train.json: CC3M in COCO Captions format,
#     {"images": [{"id", "file_name", "height", "width"}], "annotations":
#     [{"id", "image_id", "caption"}]}, file_name relative to data/cc3m/images/
#     (convert the downloaded image folder + its caption TSV once);
#   data/cc3m/images/: the images;
#   checkpoints/regionclip/rpn_r50_fpn_1x_ov-lvis-base.pth (the trained RPN).
# Run (8 GPUs):
#   bash tools/dist_test.sh configs/regionclip/rpn_r50_fpn_1x_ov-lvis-base_dump-proposals_cc3m.py \
#       checkpoints/regionclip/rpn_r50_fpn_1x_ov-lvis-base.pth 8
# -> work_dirs/regionclip/proposals/cc3m_train_rpn-lvis-base_top300.pkl
_base_ = './rpn_r50_fpn_1x_ov-lvis-base.py'

model = dict(test_cfg=dict(rpn=dict(nms_pre=1000, max_per_img=300,
                                    nms=dict(type='nms', iou_threshold=0.7),
                                    min_bbox_size=0)))

test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='Resize', scale=(1333, 800), keep_ratio=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor'))
]
test_dataloader = dict(
    _delete_=True,
    batch_size=2,
    num_workers=4,
    persistent_workers=False,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='CaptionDataset',
        data_root='data/cc3m/',
        ann_file='annotations/captions_train.json',
        data_prefix=dict(img='images/'),
        test_mode=True,
        pipeline=test_pipeline))
test_evaluator = dict(
    _delete_=True,
    type='DumpProposals',
    output_dir='work_dirs/regionclip/proposals',
    proposals_file='cc3m_train_rpn-lvis-base_top300.pkl',
    num_max_proposals=300)
