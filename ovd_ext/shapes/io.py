"""Byte-deterministic writers for images and json, written atomically
through :func:`ovd_ext.utils.atomic_open` (temp file + rename)."""
from __future__ import annotations

import json
from typing import Any

import numpy as np
from PIL import Image

from ..utils.io import atomic_open

PNG_OPTIONS = dict(format='PNG', compress_level=1, optimize=False)


def save_png(path: str, image: np.ndarray) -> None:
    """Write an [H, W, 3] uint8 array as PNG (fixed options, no metadata)
    atomically."""
    with atomic_open(path, 'wb') as f:
        Image.fromarray(image, mode='RGB').save(f, **PNG_OPTIONS)


def dump_json(path: str, obj: Any, indent: int | None = None) -> None:
    """Write ``obj`` as json with sorted keys (compact unless ``indent``)
    and a final newline, atomically."""
    if indent is None:
        text = json.dumps(obj, sort_keys=True, separators=(',', ':'))
    else:
        text = json.dumps(obj, sort_keys=True, indent=indent)
    with atomic_open(path, 'w') as f:
        f.write(text + '\n')
