"""ovd_ext: open-vocabulary and long-tailed detection methods for MMDetection 3.x.

``import ovd_ext`` registers every module into mmdet's registries; configs load
it with ``custom_imports=dict(imports=['ovd_ext'], allow_failed_imports=False)``.
"""
from .utils.checkpoint_compat import allow_mmengine_checkpoints

allow_mmengine_checkpoints()   # mmengine 0.10 checkpoints under torch >= 2.6

from . import datasets, engine, evaluation, models, vlm  # noqa: F401,E402

__version__ = '0.1.0'
