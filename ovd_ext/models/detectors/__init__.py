"""Detectors."""
from .dito import DITO
from .offline_rpn_detector import OfflineRPNDetector
from .regionclip_pretrainer import RegionCLIPPretrainer
from .regionclip_zero_shot import RegionCLIPZeroShotDetector
from .rep_pretrainer import RegionCentricPretrainer

__all__ = ['DITO', 'OfflineRPNDetector', 'RegionCLIPPretrainer',
           'RegionCLIPZeroShotDetector', 'RegionCentricPretrainer']
