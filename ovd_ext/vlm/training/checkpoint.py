"""Atomic writing of tiny-CLIP weights, resume states and provenance.

Every file goes through :mod:`ovd_ext.utils.io` (temp file in the target
folder + ``os.replace``), so an interrupted run never leaves a truncated
checkpoint behind (DESIGN.md §5); weights and resume states are saved with
:func:`ovd_ext.utils.torch_save_atomic`.
"""
from __future__ import annotations

import json
from typing import Any

import torch
from torch import nn

from ...utils.io import atomic_open, torch_save_atomic
from ..vocabulary import file_sha256 as sha256_file  # noqa: F401 (re-export)


def atomic_json(obj: Any, path: str) -> str:
    """Write ``obj`` as indented (1), key-sorted json with a final newline,
    atomically; return ``path``."""
    with atomic_open(path, 'w') as f:
        json.dump(obj, f, indent=1, sort_keys=True)
        f.write('\n')
    return path


def half_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """``model.state_dict()`` with floating tensors in fp16 (integer buffers
    such as BatchNorm's ``num_batches_tracked`` keep their dtype)."""
    return {k: (v.detach().half() if v.is_floating_point() else v.detach())
            .cpu().clone() for k, v in model.state_dict().items()}


def save_fp16_weights(model: nn.Module, path: str) -> str:
    """Save an fp16 open_clip state dict loadable by
    :func:`ovd_ext.vlm.build_clip` (strict ``load_state_dict``)."""
    torch_save_atomic(path, half_state_dict(model))
    return path
