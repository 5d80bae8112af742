"""Atomic writing of tiny-CLIP weights, resume states and provenance.

Every file is written to a temporary name in the target folder and moved into
place with ``os.replace``, so an interrupted run never leaves a truncated
checkpoint behind (DESIGN.md §5).
"""
from __future__ import annotations

import json
import os
import os.path as osp
import tempfile
from typing import Any, Callable

import torch
from torch import nn

from ..vocabulary import file_sha256 as sha256_file  # noqa: F401 (re-export)


def atomic_write(path: str, write: Callable[[str], None]) -> str:
    """Call ``write(tmp_path)`` then move the temp file onto ``path``."""
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.' + osp.basename(path) + '.',
                               suffix='.tmp', dir=folder)
    os.close(fd)
    try:
        write(tmp)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)   # mkstemp makes 0600; use the default
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise
    return path


def atomic_torch_save(obj: Any, path: str) -> str:
    """``torch.save`` through a temp file + ``os.replace``."""
    return atomic_write(path, lambda tmp: torch.save(obj, tmp))


def atomic_json(obj: Any, path: str) -> str:
    """Write ``obj`` as indented, key-sorted json, atomically."""
    def write(tmp: str) -> None:
        with open(tmp, 'w') as f:
            json.dump(obj, f, indent=1, sort_keys=True)
            f.write('\n')
    return atomic_write(path, write)


def half_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """``model.state_dict()`` with floating tensors in fp16 (integer buffers
    such as BatchNorm's ``num_batches_tracked`` keep their dtype)."""
    return {k: (v.detach().half() if v.is_floating_point() else v.detach())
            .cpu().clone() for k, v in model.state_dict().items()}


def save_fp16_weights(model: nn.Module, path: str) -> str:
    """Save an fp16 open_clip state dict loadable by
    :func:`ovd_ext.vlm.build_clip` (strict ``load_state_dict``)."""
    return atomic_torch_save(half_state_dict(model), path)
