"""XPM's robust student (Sec. 3.2.4): Mask R-CNN trained on ground-truth
images with ``L_GT`` and on captioned images with ``L_M + L_X^alpha``.

A batch comes from one source (mmdet's ``MultiDataSampler`` +
``MultiDataAspectRatioBatchSampler``); a batch of captioned images (data
samples with ``metainfo['caption_pseudo']``, set by
:class:`~ovd_ext.datasets.CaptionPseudoLabelDataset`) gets only the RoI
head's :meth:`~ovd_ext.models.roi_heads.XPMRoIHead.caption_loss`: the
objective has no RPN or box-regression term for captioned images.

``frozen_modules``: the objective minimises over the student heads
``g = {g_Emb, g_Mask, g_Noise}``, and the authors' code freezes the student's
backbone and RPN (it asserts ``MODEL.RPN.DONT_TRAIN``); the default freezes
``backbone``, ``neck`` and ``rpn_head`` (no gradients, BatchNorm in eval
mode), so only the RoI heads train. The student starts from the teacher's
weights (``load_from``, Sec. 4.1).
"""
from __future__ import annotations

from typing import Sequence

from mmdet.models.detectors import MaskRCNN
from mmdet.registry import MODELS
from torch import nn


@MODELS.register_module()
class XPMMaskRCNN(MaskRCNN):
    """Mask R-CNN + XPM's captioned-image losses (see the module doc).

    Args:
        frozen_modules: attribute names of submodules kept frozen.
        **kwargs: ``MaskRCNN`` arguments; ``roi_head`` an ``XPMRoIHead``.
    """

    def __init__(self, *args,
                 frozen_modules: Sequence[str] = ('backbone', 'neck',
                                                  'rpn_head'),
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        unknown = [n for n in frozen_modules
                   if not isinstance(getattr(self, n, None), nn.Module)]
        if unknown:
            raise ValueError(f'XPMMaskRCNN: frozen_modules {unknown} are not '
                             'submodules of the detector')
        self.frozen_modules = tuple(frozen_modules)
        for name in self.frozen_modules:
            for p in getattr(self, name).parameters():
                p.requires_grad_(False)

    def train(self, mode: bool = True) -> 'XPMMaskRCNN':
        super().train(mode)
        for name in self.frozen_modules:
            getattr(self, name).eval()
        return self

    @staticmethod
    def is_caption_batch(batch_data_samples) -> bool:
        """Whether the batch is captioned images with pseudo labels; a batch
        mixing sources is an error (one source per batch)."""
        flags = [bool(s.metainfo.get('caption_pseudo', False))
                 for s in batch_data_samples]
        if any(flags) and not all(flags):
            raise ValueError('a batch mixes captioned and ground-truth images;'
                             ' use MultiDataAspectRatioBatchSampler (one '
                             'source per batch)')
        return bool(flags) and all(flags)

    def loss(self, batch_inputs, batch_data_samples) -> dict:
        if not self.is_caption_batch(batch_data_samples):
            return super().loss(batch_inputs, batch_data_samples)
        x = self.extract_feat(batch_inputs)
        return self.roi_head.caption_loss(x, batch_data_samples)
