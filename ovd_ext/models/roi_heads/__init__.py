"""RoI heads."""
from .clip_bbox_head import CLIPBBoxHead, CLIPEmbeddingBBoxHead
from .clip_res5_head import CLIPResLayer4Head
from .dito_roi_head import DITORoIHead
from .noise_mask_head import NoiseEstimatingMaskHead
from .richsem_roi_head import RichSemRoIHead
from .xpm_roi_head import XPMRoIHead

__all__ = ['CLIPBBoxHead', 'CLIPEmbeddingBBoxHead', 'CLIPResLayer4Head',
           'DITORoIHead', 'NoiseEstimatingMaskHead', 'RichSemRoIHead',
           'XPMRoIHead']
