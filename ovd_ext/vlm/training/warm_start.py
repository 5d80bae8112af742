"""Start a CLIP's text tower from another CLIP with the same text config.

The two project tiny CLIPs share their text tower architecture
(``ovd_ext/vlm/model_configs``: width 48, 4 layers, 128-d projection). A ViT
image tower learns far more slowly from scratch than the ResNet one (it lacks
the convolutional prior), so the ViT recipe starts from the trained ResNet
CLIP's text tower and logit scale: its image tower then learns towards a text
space that already separates the classes, as in LiT (Zhai et al. 2022) with
the roles of the towers swapped.
"""
from __future__ import annotations

import os.path as osp

import torch
from torch import nn

from ..wrapper import tower_of


def is_text_param(name: str) -> bool:
    """True for every open_clip CLIP parameter / buffer outside the image
    tower (token and positional embeddings, transformer, ``ln_final``,
    ``text_projection``, ``logit_scale``): the ``'text'`` tower of
    :func:`ovd_ext.vlm.wrapper.tower_of`."""
    return tower_of(name) == 'text'


def copy_text_tower(model: nn.Module, checkpoint: str) -> list[str]:
    """Copy the non-visual tensors of an open_clip state dict file into
    ``model`` (dtype converted); return the copied names.

    Raises:
        FileNotFoundError: no such checkpoint file.
        ValueError: a text tensor is missing or has another shape.
    """
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(
            f'text-tower checkpoint {checkpoint} not found: train that model '
            'first (tools/shapes/train_tiny_clip.py)')
    src = torch.load(checkpoint, map_location='cpu', weights_only=True)
    if 'state_dict' in src and isinstance(src['state_dict'], dict):
        src = src['state_dict']
    dst = model.state_dict()
    names = [k for k in dst if is_text_param(k)]
    for k in names:
        if k not in src:
            raise ValueError(f'{checkpoint} has no {k!r}: not an open_clip '
                             'CLIP state dict with this text tower')
        if tuple(src[k].shape) != tuple(dst[k].shape):
            raise ValueError(f'{checkpoint}: {k} has shape '
                             f'{tuple(src[k].shape)}, the model needs '
                             f'{tuple(dst[k].shape)}')
    with torch.no_grad():
        for k in names:
            dst[k].copy_(src[k])
    return names
