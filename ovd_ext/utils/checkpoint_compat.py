"""Let torch >= 2.6 load the checkpoints mmengine 0.10 writes.

torch 2.6 made ``torch.load(weights_only=True)`` the default, and mmengine
0.10's ``CheckpointLoader`` calls ``torch.load`` without the argument. Its
checkpoints hold the runner's message hub (``HistoryBuffer`` objects with
numpy arrays and scalars), which the weights-only unpickler refuses, so
``tools/test.py``, ``--resume`` and ``DetInferencer`` could not read a
checkpoint that ``tools/train.py`` had just written.

Rather than turning the safe loader off (``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD``)
we allowlist exactly the types such checkpoints contain, through torch's
public ``add_safe_globals`` API. ``getattr`` is among them because numpy
scalars are pickled through it; that widens what a malicious file could do
compared with plain weights-only loading, so, as with any mmdet checkpoint,
load only files you trust.
"""
from __future__ import annotations

import numpy as np
import torch


def mmengine_checkpoint_globals() -> list:
    """The non-tensor types found in checkpoints written by mmengine 0.10."""
    from mmengine.logging.history_buffer import HistoryBuffer
    multiarray = np.core.multiarray
    dtypes = [type(np.dtype(t)) for t in (
        'float16', 'float32', 'float64', 'int8', 'int16', 'int32', 'int64',
        'uint8', 'bool')]
    return [HistoryBuffer, multiarray._reconstruct, multiarray.scalar,
            np.ndarray, np.dtype, getattr, *dtypes]


def allow_mmengine_checkpoints() -> None:
    """Register :func:`mmengine_checkpoint_globals` with torch's safe loader."""
    add = getattr(torch.serialization, 'add_safe_globals', None)
    if add is not None:   # torch < 2.4 loads everything anyway
        add(mmengine_checkpoint_globals())
