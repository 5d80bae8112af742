# OV-LVIS v1: rare classes are novel (866 base / 337 novel), read from the
# annotation file's `frequency` field. Training keeps mmdet's repeat-factor
# sampling (ClassBalancedDataset, t=1e-3) and drops rare annotations; testing
# reports AP, APr (= novel), APc, APf for box and mask.
_base_ = 'mmdet::_base_/datasets/lvis_v1_instance.py'

train_dataloader = dict(
    dataset=dict(dataset=dict(type='OVLVISV1Dataset', drop_novel=True)))
val_dataloader = dict(dataset=dict(type='OVLVISV1Dataset'))
test_dataloader = val_dataloader
val_evaluator = dict(type='OVLVISMetric', metric=['bbox', 'segm'])
test_evaluator = val_evaluator
