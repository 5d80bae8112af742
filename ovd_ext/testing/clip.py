"""Random-weight tiny CLIPs for tests and benchmarks (no downloads)."""
from __future__ import annotations

import torch

from ..vlm import CLIPWrapper, build_clip
from ..vlm.wrapper import FrozenSpec


def random_clip(name: str = 'ovd-tiny-vit', seed: int = 0,
                frozen: FrozenSpec = True,
                precision: str = 'fp32') -> CLIPWrapper:
    """``build_clip(name, None)`` after ``torch.manual_seed(seed)``: the
    same random weights on every call (``name``: e.g. ``'ovd-tiny-vit'``,
    ``'ovd-tiny-rn'``)."""
    torch.manual_seed(seed)
    return build_clip(name, None, frozen=frozen, precision=precision)
