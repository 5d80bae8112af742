"""Data transforms registered in mmdet's TRANSFORMS."""
from .captions import LoadCaptionProposals, RandomCaption, RandomRegions
from .class_agnostic import ClassAgnosticLabels
from .whole_image_box import WholeImageBox

__all__ = ['ClassAgnosticLabels', 'LoadCaptionProposals', 'RandomCaption',
           'RandomRegions', 'WholeImageBox']
