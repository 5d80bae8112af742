# RegionCLIP region-text pretraining on OVD-Shapes (Sec. 3, Eq. 1-5): the tiny
# ResNet CLIP (ovd-tiny-rn) is the teacher; the student starts as its copy and
# learns region representations from pseudo region-text pairs: 100 RPN
# proposals per image (the base-class RPN, precomputed into a proposal file),
# each matched to the concept the frozen teacher scores highest among the
# concept pool parsed from the training captions (tools/build_concept_pool.py,
# threshold 100), with the region contrastive loss (Eq. 2-3, negatives = the
# concepts matched elsewhere in the batch), the KL distillation over all
# concepts (Eq. 4) and the image-text contrastive loss on the whole-image box
# against its caption (Eq. 5 sums them), tau = 0.01. Text tower frozen.
# Images at 2x (384 px), the scale of the OVD-Shapes detectors.
_base_ = 'mmdet::_base_/default_runtime.py'
custom_imports = dict(imports=['ovd_ext'], allow_failed_imports=False)

clip = dict(type='OpenCLIP', name='ovd-tiny-rn',
            checkpoint='checkpoints/ovd_shapes/ovd-tiny-rn.pt')
concepts = 'work_dirs/regionclip/concepts/ovd-shapes_concepts_tiny-rn.npy'
proposal_file = 'work_dirs/regionclip/proposals/proposals_train.pkl'
image_scale = (384, 384)

model = dict(
    type='RegionCLIPPretrainer',
    clip=clip,
    concepts=concepts,
    temperature=0.01,
    loss_weights=dict(region=1.0, distill=1.0, image=1.0),
    min_teacher_prob=0.0,
    data_preprocessor=dict(type='DetDataPreprocessor',
                           mean=[122.7709383, 116.7460125, 104.09373615],
                           std=[68.5005327, 66.6321579, 70.32316305],
                           bgr_to_rgb=True, pad_size_divisor=32))

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    # the best 100 proposals (paper); official: sample_from=300
    dict(type='LoadCaptionProposals', num_max_proposals=100),
    dict(type='RandomCaption'),
    dict(type='ProposalBroadcaster',
         transforms=[dict(type='Resize', scale=image_scale, keep_ratio=True)]),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor', 'caption'))
]
train_dataloader = dict(
    batch_size=8,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='CaptionDataset',
        ann_file='data/ovd_shapes/annotations/captions_train.json',
        data_prefix=dict(img='data/ovd_shapes/images/'),
        proposal_file=proposal_file,
        pipeline=train_pipeline))

# Sec. 4 (implementation details) trains with SGD (batch 96, lr 0.002, 600k
# iterations) from the teacher; on 2 CPU cores: SGD with momentum, batch 8,
# 1,000 iterations (4 epochs of the 2,000 captioned images), gradient-norm
# clipping 5.0 (the official code's; the paper is silent).
max_iters = 1000
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters,
                 val_interval=max_iters + 1)
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.002, momentum=0.9, weight_decay=1e-4),
    clip_grad=dict(max_norm=5.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=0, end=max_iters,
         T_max=max_iters, eta_min=2e-5)
]
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=25),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=max_iters,
                    max_keep_ckpts=1))
log_processor = dict(by_epoch=False)
randomness = dict(seed=0)
env_cfg = dict(cudnn_benchmark=False)
