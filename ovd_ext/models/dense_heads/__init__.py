"""Dense (DETR-style) heads."""
from .richsem_dino_head import RichSemDINOHead

__all__ = ['RichSemDINOHead']
