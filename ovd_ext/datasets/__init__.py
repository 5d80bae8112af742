"""Datasets: open-vocabulary splits over mmdet's COCO / LVIS datasets, the
pseudo-label wrappers (VL-PLM, XPM) and data transforms."""
from .caption_dataset import CaptionDataset
from .caption_nouns import CaptionNouns
from .caption_pseudo_dataset import CaptionPseudoLabelDataset
from .image_label_dataset import ImageLabelDataset
from .ov_datasets import OVCocoDataset, OVLVISV1Dataset
from .pseudo_label_dataset import PseudoLabelDataset, PseudoLabelLVISDataset
from .taxonomy import build_taxonomy_map
from .transforms import (ClassAgnosticLabels, LoadCaptionProposals,
                         RandomCaption, WholeImageBox)

__all__ = ['OVCocoDataset', 'OVLVISV1Dataset', 'PseudoLabelDataset',
           'PseudoLabelLVISDataset', 'ClassAgnosticLabels', 'CaptionDataset',
           'LoadCaptionProposals', 'RandomCaption', 'ImageLabelDataset',
           'WholeImageBox', 'build_taxonomy_map', 'CaptionNouns',
           'CaptionPseudoLabelDataset']
