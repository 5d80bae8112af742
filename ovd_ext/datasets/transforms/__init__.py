"""Data transforms registered in mmdet's TRANSFORMS."""
from .class_agnostic import ClassAgnosticLabels

__all__ = ['ClassAgnosticLabels']
