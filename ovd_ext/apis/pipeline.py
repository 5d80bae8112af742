"""Resumable train / test / visualise steps, used by the demo and later methods.

Each step is skipped when its output already exists, so an interrupted
``make demo`` continues where it stopped; outputs are written atomically.
"""
from __future__ import annotations

import glob
import json
import os
import os.path as osp
from typing import Sequence

from mmengine.config import Config


def _load_cfg(config: str, work_dir: str, options: dict | None) -> Config:
    cfg = Config.fromfile(config)
    if options:
        cfg.merge_from_dict(options)
    cfg.work_dir = work_dir
    return cfg


def write_json_atomic(path: str, obj) -> None:
    """Write ``obj`` as json via a temp file and rename."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    tmp = f'{path}.tmp{os.getpid()}'
    with open(tmp, 'w') as f:
        json.dump(obj, f, indent=1)
    os.replace(tmp, path)


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
    Runner.from_cfg(cfg).train()
    ckpt = final_checkpoint(work_dir)
    if ckpt is None:
        raise RuntimeError(f'training {config} left no checkpoint in {work_dir}')
    write_json_atomic(done, dict(checkpoint=ckpt, config=config))
    return ckpt


def test(config: str, checkpoint: str, work_dir: str,
         options: dict | None = None) -> dict:
    """Evaluate ``checkpoint``; metrics are cached in ``work_dir/metrics.json``."""
    from mmengine.runner import Runner
    out = osp.join(work_dir, 'metrics.json')
    if osp.isfile(out):
        with open(out) as f:
            return json.load(f)
    cfg = _load_cfg(config, work_dir, options)
    cfg.load_from = checkpoint
    metrics = Runner.from_cfg(cfg).test()
    metrics = {k: float(v) for k, v in metrics.items()}
    write_json_atomic(out, metrics)
    return metrics


def visualise(config: str, checkpoint: str, images: Sequence[str],
              out_dir: str, score_thr: float = 0.3,
              options: dict | None = None) -> list[str]:
    """Draw detections with class names on ``images`` into ``out_dir/vis``;
    returns the PNG paths."""
    from mmdet.apis import DetInferencer
    cfg = Config.fromfile(config)
    if options:
        cfg.merge_from_dict(options)
    inferencer = DetInferencer(model=cfg, weights=checkpoint, device='cpu',
                               show_progress=False)
    inferencer(list(images), out_dir=out_dir, pred_score_thr=score_thr,
               no_save_pred=True)
    return sorted(glob.glob(osp.join(out_dir, 'vis', '*')))
