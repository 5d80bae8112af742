"""Dataset converters: downloaded data sets to the annotation formats that
ovd_ext's datasets read (used by ``tools/dataset_converters/``)."""
from .img2dataset_captions import img2dataset_to_coco_captions

__all__ = ['img2dataset_to_coco_captions']
