"""Datasets: open-vocabulary splits over mmdet's COCO / LVIS datasets, the
pseudo-label wrappers (VL-PLM) and data transforms."""
from .caption_dataset import CaptionDataset
from .ov_datasets import OVCocoDataset, OVLVISV1Dataset
from .pseudo_label_dataset import PseudoLabelDataset, PseudoLabelLVISDataset
from .transforms import (ClassAgnosticLabels, LoadCaptionProposals,
                         RandomCaption)

__all__ = ['OVCocoDataset', 'OVLVISV1Dataset', 'PseudoLabelDataset',
           'PseudoLabelLVISDataset', 'ClassAgnosticLabels', 'CaptionDataset',
           'LoadCaptionProposals', 'RandomCaption']
