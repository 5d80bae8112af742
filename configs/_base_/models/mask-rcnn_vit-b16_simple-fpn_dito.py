# DITO detector (Kim et al., Sec. 3.1 / 3.3 / 3.4 / 4): an open_clip ViT-B/16
# with windowed attention (window 16 = 1024 px / patch 16 / grid K = 4, four
# evenly spaced global blocks 2, 5, 8, 11), ViTDet's SimpleFPN with
# LayerNorm (P2..P6), Mask R-CNN with the CLIPBBoxHead (cosine against class
# text embeddings; the "background" text embedding prepended to the
# vocabulary, Sec. 3.1) and DITO's RoI head (Eq. 2 ensemble with the VLM
# score from RoIAlign on the last ViT map). Dataset configs set `vocabulary`
# (made with the "background" entry: vocabulary_background = True) and the
# novel classes; method configs switch SWL (backbone.shifted) and frozen-
# backbone distillation (model.distill) on.
_base_ = './mask-rcnn_r50_fpn_clip-head.py'

clip = dict(type='OpenCLIP', name='ViT-B-16',
            checkpoint='checkpoints/clip/ViT-B-16_laion2b_s34b_b88k.bin',
            templates='imagenet80')
vocabulary_background = True

model = dict(
    type='DITO',
    # CLIP's RGB normalisation (open_clip OPENAI_DATASET_MEAN / STD x 255)
    data_preprocessor=dict(
        mean=[122.7709383, 116.7460125, 104.09373615],
        std=[68.5005327, 66.6321579, 70.32316305],
        bgr_to_rgb=True,
        pad_size_divisor=256,
        pad_mask=True),
    backbone=dict(
        _delete_=True,
        type='WindowedCLIPViT',
        clip=dict(type='OpenCLIP', name='ViT-B-16',
                  checkpoint='checkpoints/clip/ViT-B-16_laion2b_s34b_b88k.bin'),
        window_size=16,
        num_global=4,
        shifted=False,
        shift_mode='paper'),
    neck=dict(
        _delete_=True,
        type='SimpleFPN',
        in_channels=768,
        out_channels=256,
        scale_factors=(4.0, 2.0, 1.0, 0.5),
        num_outs=5,
        norm_cfg=dict(type='LN2d')),
    roi_head=dict(
        type='DITORoIHead',
        alpha=0.3,
        beta=0.65,
        # z = softmax(cos / T); None: the CLIP's own temperature (0.01 here)
        vlm_temperature=None,
        bbox_head=dict(
            bg_embedding='text',
            # Sec. 3.1: softmax over base classes + background (no focal
            # scaling, background weight 1; official code: bg_weight=0.9)
            loss_cls=dict(type='FocalScaledCrossEntropyLoss', bg_weight=1.0,
                          focal_gamma=0.0))),
    # distill=dict(loss_weight=1.0) switches frozen-backbone distillation on
    vlm_roi_size=7,
    vlm_roi_scale=1.0,
    vlm_source='finetuned')
