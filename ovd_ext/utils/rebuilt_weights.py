"""Modules whose checkpoints leave out weights rebuilt from other files.

A frozen CLIP tower or a zero-shot detector's CLIP and RPN copies come from
the checkpoint files their config names; saving them again would only copy
those files into every checkpoint (DESIGN: CLIP copies are rebuilt, not
saved). :class:`RebuiltWeightsMixin` drops such keys from ``state_dict()``
and, on loading, keeps the built values for keys a checkpoint lacks, so
they are not reported missing.
"""
from __future__ import annotations

from typing import Iterable

from torch import nn


class RebuiltWeightsMixin:
    """Mix in before an ``nn.Module`` base; implement :meth:`rebuilt_keys`."""

    def rebuilt_keys(self, prefix: str, keys: Iterable[str]) -> set[str]:
        """Those of ``keys`` (full state-dict keys under ``prefix``) that
        this module rebuilds from files; empty when it saves everything."""
        raise NotImplementedError

    def state_dict(self, *args, destination=None, prefix: str = '',
                   keep_vars: bool = False):
        """torch's ``state_dict`` without the rebuilt keys."""
        out = super().state_dict(*args, destination=destination,
                                 prefix=prefix, keep_vars=keep_vars)
        for key in self.rebuilt_keys(prefix, list(out)):
            del out[key]
        return out

    def _load_from_state_dict(self, state_dict, prefix, local_metadata,
                              strict, missing_keys, unexpected_keys,
                              error_msgs) -> None:
        """Rebuilt keys absent from ``state_dict`` keep their built values
        (filled in before torch loads this module and its children)."""
        own = nn.Module.state_dict(self, prefix=prefix, keep_vars=True)
        for key in self.rebuilt_keys(prefix, list(own)):
            if key not in state_dict:
                state_dict[key] = own[key].detach()
        super()._load_from_state_dict(state_dict, prefix, local_metadata,
                                      strict, missing_keys, unexpected_keys,
                                      error_msgs)
