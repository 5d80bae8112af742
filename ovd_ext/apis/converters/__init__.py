"""Checkpoint converters: official checkpoints of other code bases to the
state-dict keys of ovd_ext's mmdet models (used by
``tools/model_converters/``)."""
from .regionclip import convert_regionclip, convert_regionclip_file

__all__ = ['convert_regionclip', 'convert_regionclip_file']
