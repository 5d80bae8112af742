# Faster R-CNN R50-FPN whose box head classifies against CLIP text embeddings
# (CLIPBBoxHead: projection -> cosine logits, zero background embedding,
# class-agnostic regression). Dataset configs set `vocabulary` and the novel
# classes. The classification loss is RegionCLIP's transfer setting on COCO
# (background weight 0.2, focal scaling gamma 0.5), which the OV-COCO and
# OVD-Shapes configs use; the LVIS configs replace it (`_delete_=True`).
_base_ = 'mmdet::_base_/models/faster-rcnn_r50_fpn.py'

custom_imports = dict(imports=['ovd_ext'], allow_failed_imports=False)
custom_hooks = [dict(type='VocabularyCheckHook')]

model = dict(
    roi_head=dict(
        bbox_head=dict(
            _delete_=True,
            type='CLIPBBoxHead',
            vocabulary=None,  # set by the dataset-specific config
            in_channels=256,
            fc_out_channels=1024,
            roi_feat_size=7,
            logit_scale=50.0,
            learn_scale=False,
            bg_embedding='zero',
            reg_class_agnostic=True,
            bbox_coder=dict(
                type='DeltaXYWHBBoxCoder',
                target_means=[0., 0., 0., 0.],
                target_stds=[0.1, 0.1, 0.2, 0.2]),
            loss_cls=dict(
                type='FocalScaledCrossEntropyLoss',
                bg_weight=0.2,
                focal_gamma=0.5),
            loss_bbox=dict(type='L1Loss', loss_weight=1.0))))
