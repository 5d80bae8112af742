"""RoI heads."""
from .clip_bbox_head import CLIPBBoxHead

__all__ = ['CLIPBBoxHead']
