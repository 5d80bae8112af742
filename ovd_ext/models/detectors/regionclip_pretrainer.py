"""RegionCLIP region-text pretraining (Sec. 3, Fig. 2 panel 2; Eq. 1-5).

Per batch of images with their region proposals and one caption each:

1. Teacher (frozen CLIP, ``torch.no_grad``, once per image): RoIAlign region
   embeddings ``v^t_i`` of all proposals in one batched call, cosine
   similarities to the concept pool (Eq. 1), the matched concept
   ``m_i = argmax_k S(v^t_i, l_k)`` (pseudo region-text pairs, Sec. 3.2).
2. Student (the teacher's image tower, trainable; "initialized by the
   teacher"): region embeddings ``v_i`` of the same boxes, plus the
   whole-image box for the image-level loss.
3. Losses (Eq. 5): ``L = L_ctrst + L_dist + L_ctrst-img``
   (:mod:`~ovd_ext.models.losses.region_text`), each with a weight; weight 0
   switches a loss off (Tables 5 / 7 ablations).

Region embeddings of both come from :func:`ovd_ext.vlm.pool_regions` on the
C4 map (``layer='layer3'``: RoIAlign on ``layer3``, then ``layer4`` and the
attention pool), the head RegionCLIP's C4 detector uses. The text tower is
never trained (Sec. 5: "does not update the language encoder"); caption
embeddings come from the teacher's frozen text tower, concept embeddings
from the concept-pool file (``tools/build_concept_pool.py``).

Defaults are the paper's: tau = 0.01 (contrastive and distillation), every
proposal used (100 per image; both Sec. 4 (implementation details)). The
official code differs and is a config option: ``min_teacher_prob=0.1`` drops
regions whose best teacher concept probability is at most 0.1,
``LoadCaptionProposals(sample_from=300)`` samples 100 of 300 RPN boxes, and
gradient-norm clipping 5.0 lives in the optimizer config. BatchNorm
statistics stay fixed (detectron2 FrozenBN).

Only the student's image tower is saved: the teacher and the text tower are
rebuilt from the CLIP checkpoint (``OpenCLIP(save_frozen=False)``). The
student, as a CLIP: ``OpenCLIP(..., image_checkpoint=<this checkpoint>,
image_prefix='student.model.visual.')``.
"""
from __future__ import annotations

import torch
from mmdet.registry import MODELS
from mmengine.model import BaseModel
from torch.nn.modules.batchnorm import _BatchNorm

from ...vlm.dense import dense_features, pool_regions
from ...vlm.text import encode_prompts
from ...vlm.vocabulary import load_class_embeddings
from ..losses.region_text import (concept_distillation,
                                  image_text_contrastive,
                                  region_text_contrastive)

#: Sec. 4 (implementation details): "The temperature tau was 0.01."
TEMPERATURE = 0.01
#: Layer whose map RoIAlign pools: C4, as RegionCLIP's detector.
LAYER = 'layer3'


@MODELS.register_module()
class RegionCLIPPretrainer(BaseModel):
    """Region-text pretraining of a CLIP image encoder.

    Args:
        clip: ``OpenCLIP`` config of the teacher (frozen); the student is
            built from the same config with a trainable image tower.
        concepts: concept-pool embeddings ``.npy`` (vocabulary format).
        temperature: tau of Eq. 3 and Eq. 4.
        loss_weights: ``dict(region=1., distill=1., image=1.)`` (Eq. 5).
        min_teacher_prob: drop regions whose max teacher concept
            probability is at most this (0: keep all, the paper; official
            0.1).
        data_preprocessor: mmdet ``DetDataPreprocessor`` with the CLIP's
            mean / std (RGB).
    """

    def __init__(self, clip: dict, concepts: str,
                 temperature: float = TEMPERATURE,
                 loss_weights: dict | None = None,
                 min_teacher_prob: float = 0.0,
                 data_preprocessor: dict | None = None,
                 init_cfg: dict | None = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        clip = dict(clip, type=clip.get('type', 'OpenCLIP'))
        clip.pop('templates', None)
        self.teacher = MODELS.build(dict(clip, frozen=True))
        self.student = MODELS.build(dict(clip, frozen=('text', )))
        # "initialized by the teacher": identical weights even when the
        # config builds random ones (tests)
        self.student.model.load_state_dict(self.teacher.model.state_dict())
        emb, names = load_class_embeddings(concepts)
        if emb.shape[1] != self.teacher.embed_dim:
            raise ValueError(
                f'concept pool {concepts} has D={emb.shape[1]} but the CLIP '
                f'{self.teacher.name} embeds to D={self.teacher.embed_dim}; '
                'build the pool with this CLIP (tools/build_concept_pool.py)')
        self.register_buffer('concepts', torch.from_numpy(emb).float(),
                             persistent=False)
        self.concept_names = names
        weights = dict(region=1.0, distill=1.0, image=1.0)
        unknown = set(loss_weights or {}) - set(weights)
        if unknown:
            raise KeyError(f'unknown loss_weights {sorted(unknown)}; use '
                           f'{sorted(weights)}')
        weights.update(loss_weights or {})
        if not any(w > 0 for w in weights.values()):
            raise ValueError('every loss weight is 0: nothing to train')
        self.loss_weights = weights
        self.temperature = float(temperature)
        self.min_teacher_prob = float(min_teacher_prob)

    def init_weights(self) -> None:
        """Both CLIPs hold their checkpoint weights already."""
        self._is_init = True

    def train(self, mode: bool = True) -> 'RegionCLIPPretrainer':
        super().train(mode)
        self.teacher.train(False)
        for m in self.student.modules():
            if isinstance(m, _BatchNorm):
                m.eval()
        return self

    def _boxes(self, samples) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Per image: proposal boxes, and the whole-image box (input
        pixels of the unpadded image)."""
        props, whole = [], []
        for s in samples:
            if 'proposals' not in s:
                raise KeyError(f"{s.metainfo.get('img_path')}: no proposals "
                               '(CaptionDataset proposal_file)')
            b = s.proposals.bboxes
            props.append((b.tensor if hasattr(b, 'tensor') else b).float())
            h, w = s.metainfo['img_shape'][:2]
            whole.append(props[-1].new_tensor([[0, 0, w, h]]))
        return props, whole

    def teacher_similarities(self, inputs: torch.Tensor,
                             boxes: list[torch.Tensor]) -> torch.Tensor:
        """Eq. 1 for the teacher: ``[N, C]`` cosine similarities of its
        region embeddings to the concepts (no gradient, one dense pass)."""
        with torch.no_grad():
            feats = dense_features(self.teacher, inputs, LAYER)
            emb = pool_regions(self.teacher, feats, boxes, layer=LAYER)
            return emb @ self.concepts.t()

    def loss(self, inputs: torch.Tensor, data_samples) -> dict:
        props, whole = self._boxes(data_samples)
        t_sim = self.teacher_similarities(inputs, props)
        boxes = [torch.cat([p, w]) for p, w in zip(props, whole)]
        feats = dense_features(self.student, inputs, LAYER)
        emb = pool_regions(self.student, feats, boxes, layer=LAYER)
        last = torch.tensor([len(b) for b in boxes]).cumsum(0) - 1
        is_whole = torch.zeros(len(emb), dtype=torch.bool)
        is_whole[last] = True
        s_sim = emb[~is_whole.to(emb.device)] @ self.concepts.t()
        keep = torch.ones(len(t_sim), dtype=torch.bool, device=t_sim.device)
        if self.min_teacher_prob > 0:
            keep = (t_sim / self.temperature).softmax(-1).amax(-1) > \
                self.min_teacher_prob
        matched = t_sim.argmax(dim=-1)
        w, tau = self.loss_weights, self.temperature
        losses = {}
        if w['region'] > 0:
            losses['loss_region'] = w['region'] * region_text_contrastive(
                s_sim[keep], matched[keep], tau)
        if w['distill'] > 0:
            losses['loss_distill'] = w['distill'] * concept_distillation(
                s_sim[keep], t_sim[keep], tau)
        if w['image'] > 0:
            captions = [s.metainfo['caption'] for s in data_samples]
            text = encode_prompts(self.teacher, captions)
            losses['loss_image'] = w['image'] * image_text_contrastive(
                emb[last.to(emb.device)], text, tau)
        losses['kept_regions'] = keep.float().mean().detach()
        return losses

    def forward(self, inputs: torch.Tensor, data_samples=None,
                mode: str = 'loss'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        raise RuntimeError(f'RegionCLIPPretrainer has no {mode!r} mode: it '
                           'pretrains an encoder; evaluate the student with '
                           'RegionCLIPZeroShotDetector')
