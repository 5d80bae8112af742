"""Image-tower weights from another file: a CLIP whose image tower was
trained further (RegionCLIP's region-level pretraining, a detector's
backbone) keeps the text tower of its original checkpoint.

The file is any torch checkpoint (an mmengine checkpoint with
``'state_dict'``, a ``{'model': ...}`` dict, or a bare state dict); the keys
under ``prefix`` are the image tower's own (open_clip ``visual.*`` names
without ``visual.``). Loading is strict: a missing or unexpected key, or a
shape mismatch, is an error naming the file and the key.
"""
from __future__ import annotations

import os.path as osp

import torch
from torch import nn


def read_state_dict(path: str) -> dict[str, torch.Tensor]:
    """The state dict of a checkpoint file (``'state_dict'`` / ``'model'``
    entries unwrapped); clear errors for a missing or unreadable file."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'checkpoint {osp.abspath(path)} not found')
    try:
        ckpt = torch.load(path, map_location='cpu', weights_only=False)
    except Exception as e:  # noqa: BLE001 - any unreadable file
        raise RuntimeError(f'cannot read checkpoint {path}: {e}') from e
    for key in ('state_dict', 'model'):
        if isinstance(ckpt, dict) and isinstance(ckpt.get(key), dict):
            ckpt = ckpt[key]
    if not isinstance(ckpt, dict):
        raise ValueError(f'{path} holds a {type(ckpt).__name__}, not a '
                         'state dict')
    return ckpt


def select_prefix(state_dict: dict[str, torch.Tensor], prefix: str,
                  path: str) -> dict[str, torch.Tensor]:
    """The entries of ``state_dict`` under ``prefix``, prefix removed; an
    error naming ``path`` and some of its keys when there are none."""
    out = {k[len(prefix):]: v for k, v in state_dict.items()
           if k.startswith(prefix)}
    if not out:
        sample = ', '.join(list(state_dict)[:5])
        raise KeyError(f'{path} has no keys under the prefix {prefix!r} '
                       f'(its first keys: {sample})')
    return out


def load_module_weights(module: nn.Module, path: str, prefix: str,
                        ignore: tuple[str, ...] = ()) -> None:
    """Load the ``prefix`` part of the checkpoint ``path`` into ``module``
    strictly; source keys starting with one of ``ignore`` (after the
    prefix) are skipped, e.g. the parts of an image tower that another
    module holds."""
    src = select_prefix(read_state_dict(path), prefix, path)
    src = {k: v for k, v in src.items() if not k.startswith(ignore)}
    own = module.state_dict()
    missing = [k for k in own if k not in src]
    unexpected = [k for k in src if k not in own]
    if missing or unexpected:
        raise KeyError(
            f'{path} (prefix {prefix!r}) does not fit '
            f'{type(module).__name__}: missing {missing[:5]} '
            f'({len(missing)}), unexpected {unexpected[:5]} '
            f'({len(unexpected)})')
    for k, v in src.items():
        if v.shape != own[k].shape:
            raise ValueError(f'{path}: {prefix}{k} has shape '
                             f'{tuple(v.shape)}, the model expects '
                             f'{tuple(own[k].shape)}')
    module.load_state_dict({k: v.to(own[k].dtype) for k, v in src.items()})
