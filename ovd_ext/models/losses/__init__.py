"""Classification losses for open-vocabulary and long-tailed detection."""
from .federated_loss import (FederatedSigmoidLoss, load_class_frequency,
                             sample_federated_classes)
from .focal_scaled_ce import FocalScaledCrossEntropyLoss

__all__ = [
    'FederatedSigmoidLoss', 'load_class_frequency', 'sample_federated_classes',
    'FocalScaledCrossEntropyLoss'
]
