# RegionCLIP pretraining of CLIP RN50 on COCO Captions (118k images, 5
# captions each; Table 1 "Ours COCO Cap RN50" and the Tables 5-7
# ablations): the CC3M config with the data swapped; the same concept pool
# (parsed from COCO Captions) and the same schedule (the paper gives no
# other one for COCO Cap: 600k x 96 is ~490 epochs of it; a shorter run
# sets train_cfg.max_iters and param_scheduler's milestones together).
#
# Local files (nothing is downloaded): as the CC3M config, with
#   data/coco/annotations/captions_train2017.json + data/coco/train2017/,
#   the proposals of rpn_r50_fpn_1x_ov-lvis-base_dump-proposals_coco-cap.py.
# Train:
#   bash tools/dist_train.sh configs/regionclip/regionclip_rn50_pretrain_coco-cap.py 32
_base_ = './regionclip_rn50_pretrain_cc3m.py'

caption_file = 'data/coco/annotations/captions_train2017.json'
image_dir = 'data/coco/train2017/'
proposal_file = 'work_dirs/regionclip/proposals/coco-cap_train2017_rpn-lvis-base_top300.pkl'

train_dataloader = dict(
    dataset=dict(ann_file=caption_file,
                 data_prefix=dict(img=image_dir),
                 proposal_file=proposal_file))
