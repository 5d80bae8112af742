# VL-PLM OVD student on OV-COCO (Sec. 3.3): a standard Mask R-CNN R50-FPN
# (linear classifier over the 65 classes) trained on base ground truth + novel
# pseudo labels. The pseudo labels come from tools/gen_pseudo_labels.py with
# the proposal generator mask-rcnn_r50_fpn_class-agnostic_1x_ov-coco-base.py,
# CLIP, the 17 novel classes as targets and the paper's defaults (RPN NMS 0.3,
# top 1000, 10 RoI refinements, 1x + 1.5x crops, tau 0.8, label space
# "novel"); see README.md. Pseudo labels get box-shaped masks
# (PseudoLabelDataset, pseudo_mask='box'). Test: base / novel / all AP50.
# The paper's final recipe (from scratch, LSJ 1024, SyncBN, 180k iterations)
# is mask-rcnn_r50_fpn_syncbn_lsj-180k_vl-plm_ov-coco.py.
_base_ = [
    'mmdet::_base_/models/mask-rcnn_r50_fpn.py',
    '../_base_/datasets/ov_coco_instance.py',
    '../_base_/vlm/clip_rn50-openai.py',
    'mmdet::_base_/schedules/schedule_1x.py',
    'mmdet::_base_/default_runtime.py'
]
custom_imports = dict(imports=['ovd_ext'], allow_failed_imports=False)

pseudo_labels = 'pseudo_labels/vl-plm_ov-coco_novel_train2017.json'
# Their labeler (tools/gen_pseudo_labels.py <this config> --cfg-options
# pseudo_labeler.proposal_checkpoint=...): the paper's defaults, the 17 novel
# classes as targets; the proposal generator's checkpoint is given by the run.
pseudo_labeler = dict(
    type='VLPLMLabeler',
    proposal_config=('configs/vl_plm/'
                     'mask-rcnn_r50_fpn_class-agnostic_1x_ov-coco-base.py'),
    proposal_checkpoint=None,
    clip={{_base_.clip}},
    targets={{_base_.ov_coco_novel_classes}})

model = dict(
    roi_head=dict(
        bbox_head=dict(num_classes=65), mask_head=dict(num_classes=65)))
train_dataloader = dict(
    dataset=dict(
        type='PseudoLabelDataset',
        pseudo_ann_file=pseudo_labels,
        pseudo_score_thr=0.0,  # the json is thresholded at tau=0.8 already
        pseudo_mask='box'))
