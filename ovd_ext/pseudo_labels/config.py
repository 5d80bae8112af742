"""Reading a pseudo-label run from an mmdet config.

A student config declares its labeler in a ``pseudo_labeler`` block (a
registered ``type`` and its settings) and, optionally, runner defaults in
``pseudo_label_run`` (e.g. ``dict(workers=2)``); the images to label are its
training set's and the output is its ``pseudo_ann_file``, unless the config
says otherwise in a ``pseudo_label_io = dict(ann_file=..., img_dir=...,
out=...)`` block (e.g. XPM, whose student trains on a mix of datasets) or
the caller does.
"""
from __future__ import annotations

import os.path as osp

#: Keys of a config's ``pseudo_label_run`` block (runner arguments).
RUN_KEYS = ('workers', 'max_images', 'threads_per_worker')


def labeler_config(cfg, where: str = 'the config') -> dict:
    """The ``pseudo_labeler`` block of ``cfg`` as a plain dict."""
    block = cfg.get('pseudo_labeler')
    if not block:
        raise KeyError(f'{where} has no `pseudo_labeler = dict(type=...)` '
                       'block naming the labeler and its settings')
    return block.to_dict() if hasattr(block, 'to_dict') else dict(block)


def run_defaults(cfg, where: str = 'the config') -> dict:
    """The ``pseudo_label_run`` block (runner defaults) as a dict."""
    block = dict(cfg.get('pseudo_label_run') or {})
    unknown = sorted(set(block) - set(RUN_KEYS))
    if unknown:
        raise KeyError(f'{where}: unknown pseudo_label_run key(s) {unknown}; '
                       f'one of {RUN_KEYS}')
    return block


def _train_dataset(cfg) -> dict:
    ds = (cfg.get('train_dataloader') or {}).get('dataset') or {}
    while 'dataset' in ds and 'ann_file' not in ds:   # dataset wrappers
        ds = ds['dataset']
    return ds


def labeler_io(cfg) -> dict:
    """``{'ann_file', 'img_dir', 'out'}`` from the config's
    ``pseudo_label_io`` block, else its training set (``data_root`` joined;
    ``out`` is its ``pseudo_ann_file``); a value the config does not have is
    None."""
    block = cfg.get('pseudo_label_io')
    if block:
        unknown = sorted(set(block) - {'ann_file', 'img_dir', 'out'})
        if unknown:
            raise KeyError(f'pseudo_label_io: unknown key(s) {unknown}; '
                           "one of ['ann_file', 'img_dir', 'out']")
        return {k: block.get(k) for k in ('ann_file', 'img_dir', 'out')}
    ds = _train_dataset(cfg)
    root = ds.get('data_root') or ''

    def join(path):
        return None if path is None else (
            path if osp.isabs(path) else osp.join(root, path))
    prefix = (ds.get('data_prefix') or {}).get('img')
    return {'ann_file': join(ds.get('ann_file')),
            'img_dir': join(prefix) if prefix is not None else root or None,
            'out': join(ds.get('pseudo_ann_file'))}
