"""A trained mmdet two-stage detector as a per-image labeling tool.

What every labeler that runs a detector over one image needs (VL-PLM's
proposal generator, XPM's teacher): build it from a config and checkpoint,
run the config's test pipeline on an in-memory BGR image, and apply the
model's data preprocessor.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from torch import nn


def load_two_stage_detector(config: Any, checkpoint: str | None,
                            device: str = 'cpu',
                            cfg_options: dict | None = None) -> nn.Module:
    """Build an mmdet two-stage detector from a config (path or Config) and
    load ``checkpoint`` (None: random weights, tests only). The model is in
    eval mode and keeps its config in ``model.cfg``."""
    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules
    from mmengine.config import Config
    from mmengine.runner import load_checkpoint
    from mmengine.model import revert_sync_batchnorm
    register_all_modules(init_default_scope=True)
    cfg = Config.fromfile(config) if isinstance(config, str) else config.copy()
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    model = revert_sync_batchnorm(MODELS.build(cfg.model))
    if not (hasattr(model, 'rpn_head') and hasattr(model, 'roi_head')):
        raise TypeError(f'{type(model).__name__} is not a two-stage detector '
                        '(needs rpn_head and roi_head)')
    if checkpoint is not None:
        load_checkpoint(model, checkpoint, map_location='cpu', logger='silent')
    model.cfg = cfg
    return model.to(device).eval()


def inference_pipeline(cfg) -> Any:
    """The config's test pipeline reading an in-memory (BGR) array instead of
    a file and loading no annotations."""
    from mmcv.transforms import Compose
    from mmdet.utils import get_test_pipeline_cfg
    steps = []
    for t in get_test_pipeline_cfg(cfg):
        t = dict(t)
        kind = str(t['type']).split('.')[-1]
        if kind in ('LoadAnnotations', 'LoadPanopticAnnotations'):
            continue
        if kind == 'LoadImageFromFile':
            t = dict(type='mmdet.LoadImageFromNDArray')
        steps.append(t)
    return Compose(steps)


def preprocess(model: nn.Module, pipeline, image: np.ndarray) -> dict:
    """One BGR HxWx3 image through the test pipeline and the model's data
    preprocessor: ``{'inputs': [1, 3, h, w], 'data_samples': [...]}``."""
    from mmengine.dataset import pseudo_collate
    data = pipeline(dict(img=image, img_id=0))
    return model.data_preprocessor(pseudo_collate([data]), False)
