"""Turn a training checkpoint into a zoo entry (weights + provenance).

The zoo keeps weights only (no optimizer or message-hub state), in fp16
when the evaluation of the fp16 copy stays within :data:`FP16_TOLERANCE` AP
of the full-precision checkpoint on every table column (else fp32), at most
:data:`MAX_BYTES`. Beside it, ``<name>.provenance.json`` records the config,
the commit and seed it was trained at, iterations, wall time, machine and
the metrics the zoo file gives.
"""
from __future__ import annotations

import datetime
import os
import os.path as osp
import platform

import torch
from mmengine.config import Config

from ..utils.io import atomic_open, torch_save_atomic, write_json_atomic
from ..utils.machine import cpu_name
from ..utils.train_only import strip_train_only
from ..vlm.vocabulary import file_sha256
from . import pipeline
from .results_table import metrics_to_columns

FP16_TOLERANCE = 0.1
MAX_BYTES = 8 * 1024 * 1024


def weights_only(checkpoint: str, fp16: bool) -> dict:
    """``{'meta', 'state_dict'}`` of an mmengine checkpoint for inference:
    train-only modules left out (:func:`~ovd_ext.utils.train_only.
    strip_train_only`), floating tensors cast to fp16 when ``fp16``."""
    ckpt = torch.load(checkpoint, map_location='cpu', weights_only=True)
    state = strip_train_only(ckpt.get('state_dict', ckpt))
    if fp16:
        state = {k: (v.half() if torch.is_floating_point(v) else v)
                 for k, v in state.items()}
    meta = {k: v for k, v in (ckpt.get('meta') or {}).items()
            if k in ('epoch', 'iter', 'seed', 'dataset_meta',
                     'mmengine_version', 'mmdet_version')}
    return {'meta': meta, 'state_dict': state}


def publish(config: str, checkpoint: str, out: str, commit: str,
            work_dir: str, train_seconds: float | None = None,
            command: str | None = None,
            fp32_metrics: dict | None = None, note: str | None = None,
            force_fp16: bool = False) -> dict:
    """Write the zoo file ``out`` and its provenance; returns the latter.
    ``force_fp16`` keeps fp16 weights whatever the evaluation moves (the
    metafile then holds the fp16 numbers, which the zoo file gives).

    Args:
        config: the committed config the checkpoint was trained with.
        checkpoint: the training run's final checkpoint.
        out: zoo path, e.g. ``checkpoints/vl_plm/<name>.pth``.
        commit: the commit the training ran at.
        work_dir: scratch folder for the two evaluations.
        train_seconds: wall time of the training, if known.
        command: how it was trained (e.g. ``make reproduce``).
        fp32_metrics: the full-precision checkpoint's metrics if they were
            measured already (our metric keys, values in [0, 1]); else it is
            evaluated here.
        note: anything else a reader of the provenance should know.
    """
    full = metrics_to_columns(fp32_metrics or pipeline.test(
        config, checkpoint, osp.join(work_dir, 'fp32')))
    torch_save_atomic(out, weights_only(checkpoint, fp16=True))
    half = metrics_to_columns(pipeline.test(
        config, out, osp.join(work_dir, 'fp16')))
    worst = max(abs(half[t] - full[t]) for t in full)
    precision = 'fp16'
    if worst > FP16_TOLERANCE and not force_fp16:
        precision = 'fp32'
        torch_save_atomic(out, weights_only(checkpoint, fp16=False))
        half = full
    _check_size(out)
    return _write_provenance(config, out, precision, commit, train_seconds,
                             command, note, half, full, worst)


def _check_size(out: str) -> None:
    """Remove ``out`` and raise when it is over :data:`MAX_BYTES`."""
    size = osp.getsize(out)
    if size > MAX_BYTES:
        os.remove(out)
        raise ValueError(f'{out} would be {size / 2**20:.1f} MiB, over the '
                         f'zoo limit of {MAX_BYTES / 2**20:.0f} MiB')


def publish_weights(config: str, checkpoint: str, out: str, commit: str,
                    train_seconds: float | None = None,
                    command: str | None = None, note: str | None = None,
                    fp16: bool = True) -> dict:
    """A zoo file that is not a table row and has no evaluation of its own
    (a pretrained image tower or an RPN that other configs load at
    construction): weights and a provenance with empty metrics. The
    detectors built from it are the rows that get evaluated; ``fp16=False``
    when a row that rebuilds its weights from this file (a zero-shot
    detector) moves by more than :data:`FP16_TOLERANCE` in fp16."""
    torch_save_atomic(out, weights_only(checkpoint, fp16=fp16))
    _check_size(out)
    return _write_provenance(config, out, 'fp16' if fp16 else 'fp32', commit,
                             train_seconds, command, note, {}, {}, None)


def _write_provenance(config: str, out: str, precision: str, commit: str,
                      train_seconds: float | None, command: str | None,
                      note: str | None, half: dict, full: dict,
                      worst: float | None) -> dict:
    """Write and return ``out``'s provenance json."""
    size = osp.getsize(out)
    cfg = Config.fromfile(config)
    meta = torch.load(out, map_location='cpu', weights_only=True)['meta']
    provenance = {
        'checkpoint': {'file': osp.basename(out), 'bytes': size,
                       'sha256': file_sha256(out), 'precision': precision,
                       'format': 'mmengine {meta, state_dict}, weights only'},
        'config': config,
        'commit': commit,
        'seed': (cfg.get('randomness') or {}).get('seed'),
        'iterations': meta.get('iter'),
        'train_seconds': train_seconds,
        'command': command,
        'note': note,
        'machine': {'cpu': cpu_name(), 'cores': os.cpu_count(),
                    'torch_threads': torch.get_num_threads(),
                    'torch': torch.__version__,
                    'python': platform.python_version()},
        'metrics': {k: round(v, 3) for k, v in half.items()},
        'metrics_fp32': {k: round(v, 3) for k, v in full.items()},
        'fp16_max_abs_diff': None if worst is None else round(worst, 4),
        'date_utc': datetime.datetime.now(datetime.timezone.utc).strftime(
            '%Y-%m-%dT%H:%M:%SZ'),
    }
    from .zoo import provenance_path
    write_json_atomic(provenance_path(out), provenance)
    return provenance


#: metafile ``Results`` task of each table column family
TASKS = (('Open-Vocabulary Object Detection', ('AP50', 'box ')),
         ('Open-Vocabulary Instance Segmentation', ('mask ',)),
         ('Zero-Shot Region Classification', ('GT-box ',)),
         ('Semi-Supervised Object Detection', ('COCO ',)))
TASK_NAMES = tuple(t for t, _ in TASKS)


def update_metafile(metafile: str, name: str, weights: str,
                    metrics: dict[str, float],
                    metadata: dict | None = None) -> None:
    """Set ``Weights`` and the table metrics (rounded to 0.1) of model
    ``name`` in ``metafile``; other results and keys are kept."""
    import yaml
    with open(metafile) as f:
        data = yaml.safe_load(f)
    entry = next((m for m in data.get('Models') or []
                  if m['Name'] == name), None)
    if entry is None:
        raise KeyError(f'{metafile} has no model named {name!r}')
    results = entry.setdefault('Results', [])
    for task, prefixes in TASKS:
        values = {t: round(v, 1) for t, v in metrics.items()
                  if t.startswith(prefixes)}
        if not values:
            continue
        # a result the metafile names otherwise (e.g. 'Long-Tailed Object
        # Detection') is found by its metrics, or declared with none yet
        result = (
            next((r for r in results if r.get('Task') == task), None)
            or next((r for r in results
                     if set(r.get('Metrics') or {}) & set(values)), None)
            or next((r for r in results if not r.get('Metrics')
                     and r.get('Task') not in TASK_NAMES), None))
        if result is None:
            result = {'Task': task, 'Dataset': 'OVD-Shapes', 'Metrics': {}}
            results.append(result)
        result['Metrics'] = values
    entry.setdefault('Metadata', {}).update(metadata or {})
    entry['Weights'] = weights
    with atomic_open(metafile) as f:
        yaml.safe_dump(data, f, sort_keys=False, allow_unicode=True,
                       width=100)
