"""The stage kinds a declaration can use (see :mod:`.stages`).

* ``train``: ``tools/train.py`` on ``config`` with ``cfg_options``
  (references resolved); outputs ``checkpoint`` and ``work_dir``.
* ``pseudo_labels``: the config's ``pseudo_labeler`` block (any registered
  labeler) updated by ``labeler_options``, run over the config's training
  images with the sharded runner (its ``pseudo_label_run`` block gives the
  runner's arguments, e.g. ``workers``); its quality against the withheld
  ground truth of the labeler's targets (AP@PL, #@PL) becomes the stage's
  metrics. Outputs ``file`` and ``metrics``.

Both resume: a finished stage is skipped, an interrupted one continues.
"""
from __future__ import annotations

import json
import os.path as osp

from mmengine.config import Config

from ..utils.io import write_json_atomic
from . import pipeline
from .stages import STAGE_KINDS, Stage, StageContext, resolve


@STAGE_KINDS.register_module(name='train')
def train_stage(stage: Stage, ctx: StageContext) -> dict:
    """Train ``stage.config``; ``ctx.seed`` overrides ``randomness.seed``."""
    options = resolve(dict(stage.options.get('cfg_options') or {}),
                      ctx.outputs, f'stage {stage.name}')
    if ctx.seed is not None:
        options['randomness.seed'] = int(ctx.seed)
    work_dir = ctx.stage_dir(stage)
    ckpt = pipeline.train(stage.config, work_dir, options or None,
                          validate=False)
    return {'checkpoint': ckpt, 'work_dir': work_dir, 'config': stage.config}


@STAGE_KINDS.register_module(name='pseudo_labels')
def pseudo_label_stage(stage: Stage, ctx: StageContext) -> dict:
    """Pseudo labels for ``stage.config``'s training images, and their
    quality (``metrics``: ``AP@PL`` in percent, ``#@PL`` per image)."""
    from ..pseudo_labels import pseudo_label_quality, run_labeler
    from ..pseudo_labels.config import labeler_config, labeler_io, run_defaults
    from ..utils.class_splits import resolve_classes
    cfg = Config.fromfile(stage.config)
    labeler = labeler_config(cfg, stage.config)
    labeler.update(resolve(dict(stage.options.get('labeler_options') or {}),
                           ctx.outputs, f'stage {stage.name}'))
    io = labeler_io(cfg)
    work_dir = ctx.stage_dir(stage)
    out = osp.join(work_dir, stage.options.get('output', 'pseudo_labels.json'))
    quality_file = osp.join(work_dir, 'quality.json')
    if not (osp.isfile(out) and osp.isfile(quality_file)):
        run_labeler(labeler, io['ann_file'], io['img_dir'], out,
                    progress=ctx.progress, **run_defaults(cfg, stage.config))
        with open(io['ann_file']) as f:
            categories = json.load(f)['categories']
        targets = resolve_classes(categories, labeler['targets'],
                                  where=io['ann_file'])
        q = pseudo_label_quality(io['ann_file'], out, targets)
        write_json_atomic(quality_file, {
            'AP@PL': q['AP@PL'], '#@PL': q['#@PL'],
            'per_class_AP50': q.get('per_class_AP50')})
    with open(quality_file) as f:
        metrics = json.load(f)
    return {'file': osp.abspath(out), 'work_dir': work_dir,
            'metrics': metrics}
