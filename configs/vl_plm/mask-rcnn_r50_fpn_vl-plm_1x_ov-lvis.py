# VL-PLM OVD student on OV-LVIS v1 (supplement A.1): a standard Mask R-CNN
# R50-FPN (linear classifier over the 1203 classes) trained on base
# (frequent + common) ground truth + pseudo labels for the rare (novel)
# classes, repeat-factor sampling. Test: LVIS AP / APr / APc / APf.
_base_ = [
    'mmdet::_base_/models/mask-rcnn_r50_fpn.py',
    '../_base_/datasets/ov_lvis_v1_instance.py',
    '../_base_/vlm/clip_rn50-openai.py',
    'mmdet::_base_/schedules/schedule_1x.py',
    'mmdet::_base_/default_runtime.py'
]
custom_imports = dict(imports=['ovd_ext'], allow_failed_imports=False)

pseudo_labels = 'pseudo_labels/vl-plm_ov-lvis_rare_train.json'
# Their labeler (tools/gen_pseudo_labels.py <this config> --cfg-options
# pseudo_labeler.proposal_checkpoint=...): the paper's defaults, the rare
# classes of the LVIS json as targets.
pseudo_labeler = dict(
    type='VLPLMLabeler',
    proposal_config=('configs/vl_plm/'
                     'mask-rcnn_r50_fpn_class-agnostic_1x_ov-lvis-base.py'),
    proposal_checkpoint=None,
    clip={{_base_.clip}},
    targets='novel')

model = dict(
    roi_head=dict(
        bbox_head=dict(num_classes=1203), mask_head=dict(num_classes=1203)),
    test_cfg=dict(rcnn=dict(score_thr=0.0001, max_per_img=300)))
train_dataloader = dict(
    dataset=dict(
        dataset=dict(
            type='PseudoLabelLVISDataset',
            pseudo_ann_file=pseudo_labels,
            pseudo_score_thr=0.0,  # the json is thresholded at tau=0.8 already
            pseudo_mask='box')))
