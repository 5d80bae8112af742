"""Online CLIP teacher for soft labels (RichSem Sec. 3.1, Eq. 1-2).

Frozen, no gradient, one dense pass per batch: the detector's (augmented,
normalised) input batch is re-normalised to the CLIP's mean / std, the CLIP
image tower gives a dense map (:func:`ovd_ext.vlm.dense_features`), every box
is pooled from it (``Pooler`` of Eq. 2 = :func:`ovd_ext.vlm.pool_regions`:
RoIAlign, then the rest of the tower, e.g. the attention pool) and contrasted
with the prompt-ensembled class text embeddings (``Contrast`` of Eq. 1-2:
cosine times the CLIP's logit scale). The boxes are the ground truth of
detection images and the whole-image box of image-label images (Eq. 2), in
input pixels of the augmented image.

The CLIP is never saved (``OpenCLIP(save_frozen=False)``, rebuilt from its
checkpoint), and the class embeddings are a non-persistent buffer from the
vocabulary file (``tools/embed_vocabulary.py`` with the same CLIP and
prompts), so a detector holding this teacher saves nothing of it.

Official-code choices (MengLcool/RichSem) where the paper is silent, each an
argument: ``layer='layer4'`` with a 7x7 aligned RoIAlign for RN50 (the
default grid here is the attention pool's own, 7x7 for RN50 at 224),
re-normalisation of the detector's image (no resize), scores scaled by the
frozen CLIP logit scale (about 100).
"""
from __future__ import annotations

from typing import Sequence

import torch
from mmdet.registry import MODELS
from torch import Tensor, nn

from ...vlm.dense import dense_features, dense_layer, pool_regions
from ...vlm.openclip import build_clip_from_cfg
from ...vlm.vocabulary import load_class_embeddings, read_sidecar
from ...vlm.zero_shot import clip_logit_scale


@MODELS.register_module()
class CLIPSoftLabelTeacher(nn.Module):
    """Soft targets ``s^t`` (Eq. 2) for boxes of the detector's batch.

    Args:
        clip: ``OpenCLIP`` config (frozen whatever it says; not saved).
        vocabulary: class text embeddings ``.npy`` of this CLIP, in the
            detector's class order (C rows, D = the CLIP's embed dim).
        layer: dense layer RoIAlign pools (ResNet ``'layer4'``, official and
            default, or ``'layer3'``: then ``layer4`` runs on the RoIs, the
            C4 head; ViT ``'last'``).
        roi_size: RoIAlign grid (None: the pooling head's native grid).
        sampling_ratio: RoIAlign sampling points per bin (2; 0 is adaptive
            and slow on CPU for many boxes).
        logit_scale: ``Contrast`` scale (None: the CLIP's own, about 100
            for OpenAI CLIPs, as the official code).
        input_scale: resize the batch by this factor before the teacher
            (1.0: the detector's input as is, the paper's "augmented
            image"); boxes are scaled along.
        detector_mean, detector_std: the detector's ``DetDataPreprocessor``
            normalisation (0-255 scale), to undo it.
        detector_rgb: whether the detector's input channels are RGB
            (``bgr_to_rgb=True``); otherwise they are flipped for CLIP.
    """

    def __init__(self, clip: dict, vocabulary: str,
                 layer: str | None = None,
                 roi_size: int | Sequence[int] | None = None,
                 sampling_ratio: int = 2,
                 logit_scale: float | None = None,
                 input_scale: float = 1.0,
                 detector_mean: Sequence[float] = (123.675, 116.28, 103.53),
                 detector_std: Sequence[float] = (58.395, 57.12, 57.375),
                 detector_rgb: bool = True) -> None:
        super().__init__()
        clip = dict(clip)
        clip.pop('templates', None)
        self.clip = build_clip_from_cfg(clip, frozen=True)
        self.clip.save_frozen = False
        emb, names = load_class_embeddings(
            vocabulary, expected_dim=self.clip.embed_dim,
            against=f'the teacher CLIP {self.clip.name}')
        model = read_sidecar(vocabulary).get('model', '')
        if model and model.split(':')[0] != self.clip.name:
            raise ValueError(
                f'the vocabulary {vocabulary} was embedded with {model!r} but '
                f'the teacher is {self.clip.name!r}; embed it with the '
                'teacher (tools/embed_vocabulary.py)')
        self.register_buffer('class_embeddings', torch.from_numpy(emb).float(),
                             persistent=False)
        self.class_names = names
        self.vocabulary = vocabulary
        self.layer = dense_layer(self.clip, layer)
        self.roi_size = roi_size
        self.sampling_ratio = int(sampling_ratio)
        self.logit_scale = float(logit_scale if logit_scale is not None
                                 else clip_logit_scale(self.clip))
        self.input_scale = float(input_scale)
        self.register_buffer('det_mean', torch.tensor(
            detector_mean, dtype=torch.float32).view(1, 3, 1, 1),
            persistent=False)
        self.register_buffer('det_std', torch.tensor(
            detector_std, dtype=torch.float32).view(1, 3, 1, 1),
            persistent=False)
        self.detector_rgb = bool(detector_rgb)

    @property
    def num_classes(self) -> int:
        """C, the classes of the soft targets."""
        return self.class_embeddings.shape[0]

    def train(self, mode: bool = True) -> 'CLIPSoftLabelTeacher':
        """Always in eval mode (frozen BatchNorm statistics)."""
        return super().train(False)

    def clip_inputs(self, inputs: Tensor) -> Tensor:
        """The detector's normalised batch as CLIP input: undo the
        detector's normalisation, RGB, CLIP's mean / std (0-1 scale), and
        the optional resize."""
        x = inputs.float() * self.det_std + self.det_mean
        if not self.detector_rgb:
            x = x.flip(1)
        mean = self.clip.mean.view(1, 3, 1, 1).to(x.device)
        std = self.clip.std.view(1, 3, 1, 1).to(x.device)
        x = (x / 255.0 - mean) / std
        if self.input_scale != 1.0:
            x = nn.functional.interpolate(x, scale_factor=self.input_scale,
                                          mode='bilinear',
                                          align_corners=False)
        return x

    @torch.no_grad()
    def forward(self, inputs: Tensor, boxes: Sequence[Tensor]) -> Tensor:
        """Teacher logits ``[sum k, C]`` (Eq. 2 before the softmax) for
        per-image xyxy ``boxes`` in input pixels of ``inputs``."""
        if sum(len(b) for b in boxes) == 0:
            return inputs.new_zeros(0, self.num_classes)
        feats = dense_features(self.clip, self.clip_inputs(inputs),
                               self.layer)
        boxes = [b.float() * self.input_scale for b in boxes]
        emb = pool_regions(self.clip, feats, boxes, roi_size=self.roi_size,
                           sampling_ratio=self.sampling_ratio,
                           layer=self.layer)
        return self.logit_scale * emb.float() @ self.class_embeddings.t()
