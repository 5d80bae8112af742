"""Registered model components (layers, losses, RoI heads)."""
from .backbones import CLIPResNet
from .dense_heads import RichSemDINOHead
from .detectors import OfflineRPNDetector, RegionCLIPZeroShotDetector
from .layers import TextEmbeddingClassifier
from .losses import (FederatedSigmoidLoss, FocalScaledCrossEntropyLoss,
                     load_class_frequency, sample_federated_classes)
from .necks import LayerNorm2d, SimpleFPN
from .roi_heads import CLIPBBoxHead, CLIPResLayer4Head

__all__ = [
    'TextEmbeddingClassifier', 'FederatedSigmoidLoss',
    'FocalScaledCrossEntropyLoss', 'load_class_frequency',
    'sample_federated_classes', 'CLIPBBoxHead', 'CLIPResLayer4Head',
    'CLIPResNet', 'OfflineRPNDetector', 'RegionCLIPZeroShotDetector'
]
__all__ += ['LayerNorm2d', 'SimpleFPN', 'RichSemDINOHead']
