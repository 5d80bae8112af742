"""Utilities."""
from .data_check import check_data_paths, missing_data_paths

__all__ = ['check_data_paths', 'missing_data_paths']
