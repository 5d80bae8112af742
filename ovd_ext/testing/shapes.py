"""A few OVD-Shapes images for tests (seconds, not minutes)."""
from __future__ import annotations

import warnings

from ..shapes import generate_ovd_shapes


def make_shapes(root: str, num_train: int = 3, num_val: int = 1,
                num_imagelabel: int = 0, seed: int = 5) -> str:
    """Generate a small OVD-Shapes dataset under ``root`` (images, COCO /
    LVIS / caption / image-label jsons) and return ``root``. The warning
    that so few train images cannot fill the intended LVIS frequency
    groups is silenced: small sets are the point here."""
    with warnings.catch_warnings():
        warnings.filterwarnings('ignore', message='OVD-Shapes: .* too few')
        generate_ovd_shapes(str(root), num_train=num_train, num_val=num_val,
                            num_imagelabel=num_imagelabel, seed=seed,
                            progress=False)
    return str(root)
