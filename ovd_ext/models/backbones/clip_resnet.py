"""CLIP's ModifiedResNet as a C4 detection backbone (RegionCLIP Sec. 4
(implementation details)).

RegionCLIP transfers its pretrained image encoder to "Faster RCNN
(ResNet50-C4)": the stem and ``layer1``..``layer3`` of the CLIP ResNet are the
backbone (one stride-16 map, C4), and ``layer4`` with the attention pool is the
shared RoI head (:class:`~ovd_ext.models.roi_heads.CLIPResLayer4Head`), mmdet's
C4 layout (``StandardRoIHead(shared_head=...)``).

The weights come from a CLIP (``clip``: an ``OpenCLIP`` config) at
construction, so the module needs no ``init_cfg`` and a test-time build needs
nothing but the detector checkpoint. ``image_checkpoint`` / ``image_prefix`` of
that config take the image tower from a RegionCLIP-pretrained student.
"""
from __future__ import annotations

import torch
from mmdet.registry import MODELS
from mmengine.model import BaseModule
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

#: Names of the stem's modules in open_clip's ModifiedResNet.
STEM = ('conv1', 'bn1', 'act1', 'conv2', 'bn2', 'act2', 'conv3', 'bn3',
        'act3', 'avgpool')
#: Image-tower parts the C4 RoI head holds, not the backbone.
HEAD_PARTS = ('layer4', 'attnpool')


def build_clip_image_tower(clip: dict) -> nn.Module:
    """The (ModifiedResNet) image tower of the CLIP that ``clip`` (an
    ``OpenCLIP`` config dict; ``type`` may be left out) describes, with its
    weights; the text tower is discarded."""
    from ...vlm.openclip import build_clip_from_cfg
    cfg = dict(clip)
    cfg['frozen'] = False
    wrapper = build_clip_from_cfg(cfg)
    if wrapper.kind != 'resnet':
        raise TypeError(f'{wrapper.name}: a C4 backbone needs a ModifiedResNet '
                        f'image tower, not {type(wrapper.visual).__name__}')
    visual = wrapper.model.visual
    visual.train()
    return visual


@MODELS.register_module()
class CLIPResNet(BaseModule):
    """Stem + ``layer1``..``layer3`` of a CLIP ModifiedResNet: one C4 map.

    Args:
        clip: ``OpenCLIP`` config of the CLIP whose image tower initialises
            the backbone (``checkpoint=None``: random weights, tests only).
        frozen_stages: stages whose weights stay fixed: 0 none, 1 the stem,
            k > 1 the stem and ``layer1``..``layer{k-1}``. Default 2 (stem
            and ``layer1``), detectron2's ``FREEZE_AT: 2`` that RegionCLIP's
            transfer configs use.
        norm_eval: keep every BatchNorm in eval mode with fixed statistics
            (detectron2's FrozenBN in RegionCLIP's C4 detector; small
            detection batches would corrupt CLIP's statistics).

    State-dict keys are open_clip's ``visual.*`` names without ``visual.``
    (``conv1.weight``, ``layer3.0.downsample.0.weight``, ...).
    """

    def __init__(self, clip: dict, frozen_stages: int = 2,
                 norm_eval: bool = True, init_cfg: dict | None = None) -> None:
        super().__init__(init_cfg=init_cfg)
        visual = build_clip_image_tower(clip)
        for name in STEM:
            setattr(self, name, getattr(visual, name))
        self.layer1 = visual.layer1
        self.layer2 = visual.layer2
        self.layer3 = visual.layer3
        self.out_channels = visual.layer3[-1].conv3.out_channels
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self._freeze()
        self._is_init = True   # weights come from the CLIP

    def stages(self) -> list[list[nn.Module]]:
        """Modules of stage 0 (stem) .. 3 (``layer3``)."""
        stem = [getattr(self, n) for n in STEM]
        return [stem, [self.layer1], [self.layer2], [self.layer3]]

    def _freeze(self) -> None:
        for stage in self.stages()[:self.frozen_stages]:
            for m in stage:
                m.eval()
                for p in m.parameters():
                    p.requires_grad_(False)

    def init_weights(self) -> None:
        """Nothing to do: the weights were taken from the CLIP."""

    def train(self, mode: bool = True) -> 'CLIPResNet':
        super().train(mode)
        self._freeze()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, _BatchNorm):
                    m.eval()
        return self

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor]:
        """``(C4,)``: the ``layer3`` map, stride 16."""
        x = x.to(self.conv1.weight.dtype)
        for name in STEM:
            x = getattr(self, name)(x)
        x = self.layer3(self.layer2(self.layer1(x)))
        return (x, )

