"""Datasets: open-vocabulary splits over mmdet's COCO / LVIS datasets, the
pseudo-label wrappers (VL-PLM) and data transforms."""
from .ov_datasets import OVCocoDataset, OVLVISV1Dataset
from .pseudo_label_dataset import PseudoLabelDataset, PseudoLabelLVISDataset
from .transforms import ClassAgnosticLabels

__all__ = ['OVCocoDataset', 'OVLVISV1Dataset', 'PseudoLabelDataset',
           'PseudoLabelLVISDataset', 'ClassAgnosticLabels']
