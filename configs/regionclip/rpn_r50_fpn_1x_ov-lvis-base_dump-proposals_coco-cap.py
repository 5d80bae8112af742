# The pretraining regions of RegionCLIP's COCO Caption runs (Tables 5-7
# ablations; regionclip_rn50_pretrain_coco-cap.py): as the CC3M config, over
# the 118k COCO train2017 images that have captions. Top 300 per image after
# NMS 0.7, ~0.7 GB.
#
# Local files (nothing is downloaded):
#   data/coco/annotations/captions_train2017.json (COCO Captions 2017),
#   data/coco/train2017/,
#   checkpoints/regionclip/rpn_r50_fpn_1x_ov-lvis-base.pth (the trained RPN).
# Run (8 GPUs):
#   bash tools/dist_test.sh configs/regionclip/rpn_r50_fpn_1x_ov-lvis-base_dump-proposals_coco-cap.py \
#       checkpoints/regionclip/rpn_r50_fpn_1x_ov-lvis-base.pth 8
# -> work_dirs/regionclip/proposals/coco-cap_train2017_rpn-lvis-base_top300.pkl
_base_ = './rpn_r50_fpn_1x_ov-lvis-base_dump-proposals_cc3m.py'

test_dataloader = dict(
    dataset=dict(data_root='data/coco/',
                 ann_file='annotations/captions_train2017.json',
                 data_prefix=dict(img='train2017/')))
test_evaluator = dict(
    proposals_file='coco-cap_train2017_rpn-lvis-base_top300.pkl')
