"""Train-only modules: trained with the model, left out of inference weights.

RichSem's semantic branch (Sec. 3.2: "once trained, the semantic branch is
no longer needed for inference") and XPM's pixel-noise head (``noise_head``
of ``NoiseEstimatingMaskHead``: not used at test time) are such modules. Training checkpoints keep
it (so ``--resume`` continues it); exported weights (the model zoo,
:func:`strip_train_only`) drop every key under a module whose attribute name
is in :data:`TRAIN_ONLY_NAMES`, so they load into the plain base detector
with no unexpected keys. :class:`TrainOnlyWeightsMixin` lets the module load
such weights without reporting its own keys missing.
"""
from __future__ import annotations

from typing import Mapping

from torch import nn

#: Attribute names of train-only modules, wherever they sit in a model.
TRAIN_ONLY_NAMES = ('semantic_branch', 'noise_head')


def is_train_only_key(key: str) -> bool:
    """Whether a state-dict key lies under a train-only module."""
    return any(part in TRAIN_ONLY_NAMES for part in key.split('.')[:-1])


def strip_train_only(state_dict: Mapping) -> dict:
    """``state_dict`` without train-only keys (for inference weights)."""
    return {k: v for k, v in state_dict.items() if not is_train_only_key(k)}


class TrainOnlyWeightsMixin:
    """Mix in before an ``nn.Module`` base: loading a state dict that lacks
    this module's keys (inference weights) keeps the built values."""

    def _load_from_state_dict(self, state_dict, prefix, local_metadata,
                              strict, missing_keys, unexpected_keys,
                              error_msgs) -> None:
        own = nn.Module.state_dict(self, prefix=prefix, keep_vars=True)
        if not any(k in state_dict for k in own):
            for key, value in own.items():
                state_dict[key] = value.detach()
        super()._load_from_state_dict(state_dict, prefix, local_metadata,
                                      strict, missing_keys, unexpected_keys,
                                      error_msgs)
