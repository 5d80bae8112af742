"""Atomic, byte-deterministic writers for images and json."""
from __future__ import annotations

import json
import os
import os.path as osp
from typing import Any

import numpy as np
from PIL import Image

PNG_OPTIONS = dict(format='PNG', compress_level=1, optimize=False)


def _tmp_path(path: str) -> str:
    return f'{path}.tmp{os.getpid()}'


def save_png(path: str, image: np.ndarray) -> None:
    """Write an [H, W, 3] uint8 array as PNG (fixed options, no metadata) via a
    temp file and ``os.replace``."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    tmp = _tmp_path(path)
    Image.fromarray(image, mode='RGB').save(tmp, **PNG_OPTIONS)
    os.replace(tmp, path)


def dump_json(path: str, obj: Any, indent: int | None = None) -> None:
    """Write ``obj`` as json with sorted keys, atomically (temp + rename)."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    if indent is None:
        text = json.dumps(obj, sort_keys=True, separators=(',', ':'))
    else:
        text = json.dumps(obj, sort_keys=True, indent=indent)
    tmp = _tmp_path(path)
    with open(tmp, 'w', encoding='utf-8') as f:
        f.write(text + '\n')
    os.replace(tmp, path)
