"""Atomic writes: every output of ovd_ext is written to a temp file in the
target folder and renamed over the target (``os.replace``), so a reader or an
interrupted run never sees half a file (DESIGN.md §5).

One helper per kind of output: json, ``.npy`` arrays and ``torch.save``
objects (checkpoints).
"""
from __future__ import annotations

import json
import os
import os.path as osp
from contextlib import contextmanager
from typing import IO, Any, Iterator

import numpy as np


@contextmanager
def atomic_open(path: str, mode: str = 'w') -> Iterator[IO]:
    """Open a temp file beside ``path`` for writing; on a clean exit it is
    flushed, synced and renamed to ``path``, on an error it is removed (an
    existing ``path`` is then left as it was). Creates missing folders."""
    if mode not in ('w', 'wb'):
        raise ValueError('atomic_open writes only ("w" or "wb"), got '
                         f'{mode!r}')
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = osp.join(folder, f'.{osp.basename(path)}.tmp{os.getpid()}')
    try:
        with open(tmp, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def write_json_atomic(path: str, obj: Any, indent: int | None = 1) -> None:
    """Write ``obj`` as json (``indent`` spaces per level) atomically."""
    with atomic_open(path, 'w') as f:
        json.dump(obj, f, indent=indent)


def write_npy_atomic(path: str, array: np.ndarray) -> None:
    """Write ``array`` as a ``.npy`` file atomically (``np.save`` format;
    ``path`` is used as given, no ``.npy`` is appended)."""
    with atomic_open(path, 'wb') as f:
        np.save(f, np.asarray(array), allow_pickle=False)


def torch_save_atomic(path: str, obj: Any) -> None:
    """``torch.save(obj)`` to ``path`` atomically (checkpoints, weights)."""
    import torch
    with atomic_open(path, 'wb') as f:
        torch.save(obj, f)
