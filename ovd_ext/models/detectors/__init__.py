"""Detectors."""
from .dito import DITO
from .offline_rpn_detector import OfflineRPNDetector
from .regionclip_pretrainer import RegionCLIPPretrainer
from .regionclip_zero_shot import RegionCLIPZeroShotDetector
from .rep_pretrainer import RegionCentricPretrainer
from .richsem import RichSemDINO, RichSemFasterRCNN, RichSemMixin
from .stac import STAC
from .xpm import XPMMaskRCNN

__all__ = ['DITO', 'OfflineRPNDetector', 'RegionCLIPPretrainer',
           'RegionCLIPZeroShotDetector', 'RegionCentricPretrainer', 'RichSemDINO', 'RichSemFasterRCNN',
           'RichSemMixin', 'STAC', 'XPMMaskRCNN']
