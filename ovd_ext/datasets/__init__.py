"""Datasets: open-vocabulary splits over mmdet's COCO / LVIS datasets."""
from .ov_datasets import OVCocoDataset, OVLVISV1Dataset

__all__ = ['OVCocoDataset', 'OVLVISV1Dataset']
