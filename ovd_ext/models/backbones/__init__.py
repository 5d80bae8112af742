"""Backbones."""
from .clip_resnet import CLIPResNet
from .windowed_clip_vit import WindowedCLIPViT

__all__ = ['CLIPResNet', 'WindowedCLIPViT']
