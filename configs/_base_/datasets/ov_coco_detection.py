# OV-COCO (Bansal et al. 2018 split, as OVR-CNN / ViLD / RegionCLIP / VL-PLM):
# 65 classes = 48 base + 17 novel. Training drops novel annotations; testing
# reports base / novel / all AP50 with OVDCocoMetric, which reads the
# base/novel names from the dataset metainfo.
_base_ = ['mmdet::_base_/datasets/coco_detection.py', './ov_coco_classes.py']

train_dataloader = dict(
    dataset=dict(
        type='OVCocoDataset',
        metainfo={{_base_.ov_coco_metainfo}},
        drop_novel=True))
val_dataloader = dict(
    dataset=dict(type='OVCocoDataset', metainfo={{_base_.ov_coco_metainfo}}))
test_dataloader = val_dataloader
val_evaluator = dict(type='OVDCocoMetric', metric='bbox')
test_evaluator = val_evaluator
