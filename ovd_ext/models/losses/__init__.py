"""Classification losses for open-vocabulary and long-tailed detection."""
from .federated_loss import (FederatedSigmoidLoss, load_class_frequency,
                             sample_federated_classes)
from .focal_scaled_ce import FocalScaledCrossEntropyLoss
from .soft_label_kl import SoftLabelKLLoss, soft_label_kl

__all__ = [
    'FederatedSigmoidLoss', 'load_class_frequency', 'sample_federated_classes',
    'FocalScaledCrossEntropyLoss', 'SoftLabelKLLoss', 'soft_label_kl'
]
