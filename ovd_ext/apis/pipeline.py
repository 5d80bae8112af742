"""Resumable train / test steps, used by the stage runner and the demo.

Each step is skipped when its output already exists, so an interrupted
``make demo`` / ``make reproduce`` continues where it stopped; outputs are
written atomically.
"""
from __future__ import annotations

import glob
import json
import os
import os.path as osp
import time

from mmengine.config import Config

from ..utils.io import write_json_atomic


def _load_cfg(config: str, work_dir: str, options: dict | None) -> Config:
    cfg = Config.fromfile(config)
    if options:
        cfg.merge_from_dict(options)
    cfg.work_dir = work_dir
    return cfg


def final_checkpoint(work_dir: str) -> str | None:
    """The checkpoint a finished run left (``last_checkpoint``, else the
    last ``epoch_*`` / ``iter_*``)."""
    last = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(last):
        with open(last) as f:
            path = f.read().strip()
        if osp.isfile(path):
            return path
    for kind in ('epoch', 'iter'):
        ckpts = sorted(glob.glob(osp.join(work_dir, f'{kind}_*.pth')),
                       key=lambda p: int(p.rsplit('_', 1)[1].split('.')[0]))
        if ckpts:
            return ckpts[-1]
    return None


def train(config: str, work_dir: str, options: dict | None = None,
          validate: bool = True) -> str:
    """Train unless ``work_dir/done.json`` exists; resume an interrupted run.
    ``validate=False`` drops the config's validation (callers that run
    :func:`test` afterwards need not evaluate twice)."""
    from mmengine.runner import Runner
    done = osp.join(work_dir, 'done.json')
    if osp.isfile(done):
        with open(done) as f:
            return json.load(f)['checkpoint']
    cfg = _load_cfg(config, work_dir, options)
    if not validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.resume = final_checkpoint(work_dir) is not None
    start = time.time()
    Runner.from_cfg(cfg).train()
    ckpt = final_checkpoint(work_dir)
    if ckpt is None:
        raise RuntimeError(f'training {config} left no checkpoint in {work_dir}')
    write_json_atomic(done, dict(checkpoint=ckpt, config=config,
                                 options=options or {},
                                 seconds=round(time.time() - start, 1)))
    return ckpt


def _fingerprint(path: str) -> dict:
    st = os.stat(path)
    return {'path': osp.abspath(path), 'bytes': st.st_size,
            'mtime': int(st.st_mtime)}


def test(config: str, checkpoint: str, work_dir: str,
         options: dict | None = None, progress: str | None = None) -> dict:
    """Evaluate ``checkpoint``; the metrics are cached in
    ``work_dir/metrics.json`` together with the checkpoint's path, size and
    time, so a changed checkpoint is evaluated again. ``progress``: show a
    progress bar with this title."""
    from mmengine.runner import Runner
    out = osp.join(work_dir, 'metrics.json')
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint {checkpoint} not found')
    key = dict(_fingerprint(checkpoint), config=config, options=options or {})
    if osp.isfile(out):
        with open(out) as f:
            cached = json.load(f)
        if cached.get('key') == json.loads(json.dumps(key)):
            return cached['metrics']
    cfg = _load_cfg(config, work_dir, options)
    cfg.load_from = checkpoint
    if progress is not None:
        cfg.custom_hooks = list(cfg.get('custom_hooks') or []) + [
            dict(type='TestProgressBarHook', title=progress)]
        # the bar replaces mmengine's config dump and per-interval lines
        cfg.default_hooks.logger.interval = 10 ** 6
        cfg.log_level = 'WARNING'
    metrics = Runner.from_cfg(cfg).test()
    metrics = {k: float(v) for k, v in metrics.items()}
    write_json_atomic(out, {'key': key, 'metrics': metrics})
    return metrics
