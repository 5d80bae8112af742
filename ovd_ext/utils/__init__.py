"""Utilities shared by the whole package: atomic writes, image reading with
clear errors, the base/novel class resolver, numeric setting checks,
missing-data checks and the machine a provenance record names."""
from .checks import check_number, check_numbers
from .class_splits import (CLASS_SETS, LVIS_FREQUENCIES, frequency_groups,
                           novel_classes, rare_category_ids, rare_classes,
                           resolve_classes, split_classes)
from .data_check import check_data_paths, missing_data_paths
from .images import READ_ERROR_REASONS, ImageReadError, read_image
from .io import (atomic_open, torch_save_atomic, write_json_atomic,
                 write_npy_atomic)
from .machine import cpu_name

__all__ = [
    'check_number', 'check_numbers', 'CLASS_SETS', 'LVIS_FREQUENCIES',
    'frequency_groups', 'novel_classes', 'rare_category_ids', 'rare_classes',
    'resolve_classes', 'split_classes', 'check_data_paths',
    'missing_data_paths',
    'READ_ERROR_REASONS', 'ImageReadError', 'read_image', 'atomic_open',
    'torch_save_atomic', 'write_json_atomic', 'write_npy_atomic', 'cpu_name',
]
