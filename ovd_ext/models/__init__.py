"""Registered model components (layers, losses, RoI heads)."""
from .layers import TextEmbeddingClassifier
from .losses import (FederatedSigmoidLoss, FocalScaledCrossEntropyLoss,
                     load_class_frequency, sample_federated_classes)
from .roi_heads import CLIPBBoxHead

__all__ = [
    'TextEmbeddingClassifier', 'FederatedSigmoidLoss',
    'FocalScaledCrossEntropyLoss', 'load_class_frequency',
    'sample_federated_classes', 'CLIPBBoxHead'
]
