"""Detectors."""
from .offline_rpn_detector import OfflineRPNDetector
from .regionclip_pretrainer import RegionCLIPPretrainer
from .regionclip_zero_shot import RegionCLIPZeroShotDetector

__all__ = ['OfflineRPNDetector', 'RegionCLIPPretrainer',
           'RegionCLIPZeroShotDetector']
