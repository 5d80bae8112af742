"""Clear errors for missing data before a long run starts building anything."""
from __future__ import annotations

import os.path as osp
from typing import Iterator

from mmengine.config import Config

LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def _datasets(cfg) -> Iterator[dict]:
    """Leaf dataset configs, through wrappers (``dataset`` / ``datasets``)."""
    if cfg is None:
        return
    if 'dataset' in cfg:
        yield from _datasets(cfg['dataset'])
    elif 'datasets' in cfg:
        for sub in cfg['datasets']:
            yield from _datasets(sub)
    else:
        yield cfg


def missing_data_paths(cfg: Config, loaders=LOADERS) -> list[tuple[str, str]]:
    """(loader, path) pairs for annotation files / image dirs that do not exist."""
    missing = []
    for name in loaders:
        loader = cfg.get(name)
        if not loader:
            continue
        for ds in _datasets(loader.get('dataset')):
            root = ds.get('data_root') or ''
            ann = ds.get('ann_file')
            if ann and not osp.exists(osp.join(root, ann)):
                missing.append((name, osp.join(root, ann)))
            for prefix in (ds.get('data_prefix') or {}).values():
                path = osp.join(root, prefix) if prefix else root
                if path and not osp.isdir(path):
                    missing.append((name, path))
    return list(dict.fromkeys(missing))


def check_data_paths(cfg: Config, loaders=LOADERS) -> None:
    """Raise ``FileNotFoundError`` naming every missing dataset path."""
    missing = missing_data_paths(cfg, loaders)
    if missing:
        lines = '\n'.join(f'  {loader}: {path}' for loader, path in missing)
        raise FileNotFoundError(
            f'dataset files not found:\n{lines}\nPrepare the data as the '
            f"config's README says, or point data_root elsewhere with "
            f'--cfg-options.')
