"""The stage kinds a declaration can use (see :mod:`.stages`).

* ``train``: ``tools/train.py`` on ``config`` with ``cfg_options``
  (references resolved); outputs ``checkpoint``, ``work_dir`` and
  ``model_options`` (the ``model.*`` options, used again to evaluate it).
* ``pseudo_labels``: the config's ``pseudo_labeler`` block (any registered
  labeler) updated by ``labeler_options``, run over the config's training
  images with the sharded runner (its ``pseudo_label_run`` block gives the
  runner's arguments, e.g. ``workers``); its quality against the withheld
  ground truth of the labeler's targets (AP@PL, #@PL) becomes the stage's
  metrics (``quality_targets`` names them where the labeler has no
  ``targets``; mask AP@PL and mask IoU too for pseudo masks;
  ``quality_ann_file`` is the ground truth to score against where the
  labeled images' json has none, e.g. an SSOD unlabeled split). Outputs
  ``file`` and ``metrics``.
* ``test``: ``tools/test.py`` of ``config`` on a ``checkpoint``; outputs
  ``metrics`` and the files it writes (e.g. dumped proposals).
* ``tool``: a ``tools/`` script with arguments; outputs the files it writes
  (e.g. a concept pool).
* ``build``: a model whose weights come from files its config names (e.g. a
  zero-shot detector), saved as a checkpoint; outputs ``checkpoint`` and
  ``model_options`` like ``train``.

Strings in a stage's options may name earlier outputs (``{stage.key}``) and,
in the kinds above, the stage's own work directory (``{stage_dir}``).

Both resume: a finished stage is skipped, an interrupted one continues.
"""
from __future__ import annotations

import json
import os
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
    return {'checkpoint': ckpt, 'work_dir': work_dir, 'config': stage.config,
            'model_options': model_options(options)}


def model_options(options: dict | None) -> dict:
    """The ``model.*`` entries of resolved ``cfg_options``: what building the
    stage's model needed (e.g. the files its weights came from), so that a
    row is evaluated with the model its stage built."""
    return {k: v for k, v in (options or {}).items()
            if k.startswith('model.')}


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
    spec = stage.options.get('quality_targets', labeler.get('targets'))
    if spec is None:
        raise KeyError(f'stage {stage.name}: give quality_targets (the '
                       'classes whose withheld ground truth the pseudo '
                       'labels are scored against)')
    if not (osp.isfile(out) and osp.isfile(quality_file)):
        run_labeler(labeler, io['ann_file'], io['img_dir'], out,
                    progress=ctx.progress, **run_defaults(cfg, stage.config))
        with open(io['ann_file']) as f:
            categories = json.load(f)['categories']
        targets = resolve_classes(categories, spec, where=io['ann_file'])
        gt_file = _resolve_stage(
            stage.options.get('quality_ann_file', io['ann_file']), stage,
            ctx)
        q = pseudo_label_quality(gt_file, out, targets)
        if not q['num_gt']:
            raise ValueError(
                f'stage {stage.name}: {gt_file} has no ground truth of the '
                f'targets on the labeled images, so the pseudo labels in '
                f'{out} cannot be scored; name the json that has it in '
                'quality_ann_file (e.g. the full training json of an SSOD '
                'split)')
        write_json_atomic(quality_file, {
            'AP@PL': q['AP@PL'], '#@PL': q['#@PL'],
            'per_class_AP50': q.get('per_class_AP50'),
            **{k: v for k, v in q.items() if k.startswith('mask ')}})
    with open(quality_file) as f:
        metrics = json.load(f)
    return {'file': osp.abspath(out), 'work_dir': work_dir,
            'metrics': metrics}


def _resolve_stage(value, stage: Stage, ctx: StageContext):
    """References to earlier stages' outputs, and ``{stage_dir}`` (this
    stage's work directory) in strings."""
    value = resolve(value, ctx.outputs, f'stage {stage.name}')
    here = ctx.stage_dir(stage)

    def sub(v):
        if isinstance(v, dict):
            return {k: sub(x) for k, x in v.items()}
        if isinstance(v, list):
            return [sub(x) for x in v]
        return v.replace('{stage_dir}', here) if isinstance(v, str) else v
    return sub(value)


@STAGE_KINDS.register_module(name='test')
def test_stage(stage: Stage, ctx: StageContext) -> dict:
    """``tools/test.py`` of ``config`` on ``checkpoint`` (a reference) with
    ``cfg_options``; ``files`` names what the test writes (e.g. a
    DumpProposals pkl: ``{file: '{stage_dir}/proposals.pkl'}``). Outputs
    ``metrics``, ``work_dir`` and the ``files`` keys."""
    opts = _resolve_stage(dict(stage.options), stage, ctx)
    if 'checkpoint' not in opts:
        raise KeyError(f'stage {stage.name}: a test stage needs checkpoint')
    work_dir = ctx.stage_dir(stage)
    metrics = pipeline.test(stage.config, opts['checkpoint'], work_dir,
                            opts.get('cfg_options') or None)
    files = dict(opts.get('files') or {})
    for key, path in files.items():
        if not osp.isfile(path):
            raise FileNotFoundError(f'stage {stage.name}: testing '
                                    f'{stage.config} did not write {key} '
                                    f'{path}')
    return dict(files, metrics=metrics, work_dir=work_dir)


@STAGE_KINDS.register_module(name='tool')
def tool_stage(stage: Stage, ctx: StageContext) -> dict:
    """Run ``script`` (a ``tools/`` script) with ``args``; its ``files``
    (``{key: path}``) are the outputs. Skipped when they all exist, so an
    interrupted tool runs again (the tools write atomically). ``config``
    names the config whose data the tool reads (documentation only)."""
    import subprocess
    import sys
    opts = _resolve_stage(dict(stage.options), stage, ctx)
    files = dict(opts.get('files') or {})
    if not files or 'script' not in opts:
        raise KeyError(f'stage {stage.name}: a tool stage needs script and '
                       'files')
    if not all(osp.isfile(p) for p in files.values()):
        os.makedirs(ctx.stage_dir(stage), exist_ok=True)
        cmd = [sys.executable, opts['script']] + [str(a) for a in
                                                  opts.get('args') or []]
        subprocess.run(cmd, check=True)
        missing = [p for p in files.values() if not osp.isfile(p)]
        if missing:
            raise FileNotFoundError(f'stage {stage.name}: {opts["script"]} '
                                    f'did not write {missing}')
    return dict(files, work_dir=ctx.stage_dir(stage))


@STAGE_KINDS.register_module(name='build')
def build_stage(stage: Stage, ctx: StageContext) -> dict:
    """A model whose weights its config names (a zero-shot detector built
    from CLIP / RPN files, say), built with ``cfg_options`` and saved as an
    mmengine checkpoint (``state_dict`` + ``meta``); outputs ``checkpoint``
    and ``work_dir``. Skipped when the checkpoint exists."""
    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules

    from ..utils.io import torch_save_atomic
    opts = _resolve_stage(dict(stage.options), stage, ctx)
    work_dir = ctx.stage_dir(stage)
    out = osp.join(work_dir, 'model.pth')
    if not osp.isfile(out):
        register_all_modules(init_default_scope=True)
        cfg = Config.fromfile(stage.config)
        if opts.get('cfg_options'):
            cfg.merge_from_dict(opts['cfg_options'])
        model = MODELS.build(cfg.model)
        state = {k: v.detach().clone() for k, v in
                 model.state_dict().items()}
        os.makedirs(work_dir, exist_ok=True)
        torch_save_atomic(out, {
            'state_dict': state,
            'meta': {'config': stage.config,
                     'cfg_options': opts.get('cfg_options'),
                     'built_by': 'ovd_ext stage kind build'}})
    return {'checkpoint': out, 'work_dir': work_dir, 'config': stage.config,
            'model_options': model_options(opts.get('cfg_options'))}
