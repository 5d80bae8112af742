"""XPM's student RoI head: cross-modal and pseudo-mask losses on captioned
images (Sec. 3.2.2-3.2.4, Eq. 3, 5-7 and the objective).

Ground-truth images train with mmdet's ``StandardRoIHead`` losses
(``L_GT``). A captioned image's pseudo labels (boxes ``b_o``, word labels
in the caption vocabulary V_C, pseudo masks ``M_o``;
:class:`~ovd_ext.datasets.CaptionPseudoLabelDataset`) train the student at
the aligned regions themselves, as the equations state (features
``f_{b_o}``, not sampled proposals):

* ``L_X`` (Eq. 3): the student embedding ``g_Emb(f_{b_o})`` (the bbox
  head's :meth:`region_embeddings`) scored against every word of V_C
  (``caption_vocabulary``), softmax over V_C, the object's word maximised.
  V_C is the caption vocabulary (Sec. 3.1: the set of caption classes,
  ``|V_C| >> |V_B|``; the authors' code scores against its whole caption
  vocabulary, LVIS's classes): ``softmax_over='vocabulary'``, the default.
  ``softmax_over='image'`` restricts the softmax to the image's own caption
  objects O_c (``metainfo['caption_words']``); an object whose caption
  names nothing else then has no L_X. Logits are the cosines times the bbox
  head classifier's logit scale.
* ``L_M``: with a :class:`NoiseEstimatingMaskHead` and ``noise=True``, Eq. 6
  (reparametrised BCE); otherwise Eq. 5 (plain BCE, the ablation without
  noise estimation). Targets are ``M_o`` cropped to ``b_o`` at the mask size
  (mmdet's ``mask_target``).
* ``L_X^alpha`` (objective): each object's ``L_X`` term weighted by
  ``alpha(o) = eta / mean noise`` (Eq. 7, no gradient into ``g_Noise``);
  ``alpha = 1`` without noise estimation. Terms are averaged over the
  batch's objects (the paper sums per image; mmdet losses are means).

Logged besides the losses: ``xpm_alpha`` (mean alpha) and ``xpm_noise``
(mean variance). Inference is ``StandardRoIHead``'s.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from mmdet.models.roi_heads import StandardRoIHead
from mmdet.registry import MODELS
from mmdet.structures.bbox import bbox2roi, get_box_tensor
from mmdet.structures.mask import mask_target
from torch import Tensor

from ...vlm.vocabulary import load_class_embeddings
from .clip_bbox_head import MASKED_LOGIT
from .noise_mask_head import ETA, reliability, reparametrised_bce


#: L_X's softmax: the caption vocabulary V_C, or one image's caption words.
SOFTMAX_OVER = ('vocabulary', 'image')


def read_eta(eta: float | str) -> float:
    """``eta`` as a number: given, or the ``eta`` of a calibration json."""
    if isinstance(eta, str):
        import json
        try:
            with open(eta) as f:
                value = json.load(f)['eta']
        except FileNotFoundError:
            raise FileNotFoundError(f'eta calibration file {eta} not found '
                                    '(tools/xpm/calibrate_eta.py)') from None
        except (KeyError, TypeError, json.JSONDecodeError):
            raise ValueError(f'{eta} is not a calibration json with an '
                             '"eta" number') from None
        eta = value
    if not isinstance(eta, (int, float)) or not eta > 0:
        raise ValueError(f'eta must be a positive number, got {eta!r}')
    return float(eta)


@MODELS.register_module()
class XPMRoIHead(StandardRoIHead):
    """``StandardRoIHead`` + :meth:`caption_loss` (see the module doc).

    Args:
        caption_vocabulary: word embeddings of V_C (.npy + sidecar, the
            pseudo labels' categories in order).
        eta: Eq. 7's eta (paper: 0.01), or the json that
            ``tools/xpm/calibrate_eta.py`` writes (its ``eta``: the smallest
            average noise level of a trained student, Sec. 4.1 footnote).
        noise: estimate pseudo-mask noise (Eq. 6-7); False: Eq. 5 and
            ``alpha = 1``. Needs a :class:`NoiseEstimatingMaskHead`.
        softmax_over: ``'vocabulary'`` (V_C, default) or ``'image'``
            (the image's caption objects); see the module doc.
        loss_x_weight, loss_m_weight: weights of ``L_X^alpha`` and ``L_M``
            (the objective sums them with weight 1).
    """

    def __init__(self, *args, caption_vocabulary: str | None = None,
                 eta: float | str = ETA, noise: bool = True,
                 softmax_over: str = 'vocabulary',
                 loss_x_weight: float = 1.0, loss_m_weight: float = 1.0,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not caption_vocabulary:
            raise ValueError('XPMRoIHead needs caption_vocabulary, the word '
                             'embeddings (.npy) of the caption vocabulary')
        emb, names = load_class_embeddings(caption_vocabulary)
        self.caption_vocabulary = caption_vocabulary
        self.caption_words = list(names)
        self.register_buffer('word_embeddings', F.normalize(
            torch.as_tensor(emb, dtype=torch.float32), dim=1),
            persistent=False)
        if not isinstance(eta, str):
            read_eta(eta)               # a bad number fails at build time
        self._eta_source, self._eta = eta, None
        self.noise = bool(noise)
        if softmax_over not in SOFTMAX_OVER:
            raise ValueError(f'softmax_over must be one of {SOFTMAX_OVER}, '
                             f'got {softmax_over!r}')
        self.softmax_over = softmax_over
        self.loss_x_weight = float(loss_x_weight)
        self.loss_m_weight = float(loss_m_weight)
        if self.noise and not hasattr(self.mask_head, 'forward_with_noise'):
            raise TypeError('XPMRoIHead(noise=True) needs a '
                            'NoiseEstimatingMaskHead, got '
                            f'{type(self.mask_head).__name__}')
        if not hasattr(self.bbox_head, 'region_embeddings'):
            raise TypeError('XPMRoIHead needs an embedding bbox head '
                            '(CLIPBBoxHead)')

    @torch.no_grad()
    def noise_levels(self, x: tuple[Tensor], batch_data_samples
                     ) -> list[Tensor]:
        """Per image, each pseudo label's average noise (Eq. 7's
        denominator: mean variance over its RoI), for calibrating ``eta``
        (Sec. 4.1 footnote: the smallest average noise level)."""
        if not hasattr(self.mask_head, 'forward_with_noise'):
            raise TypeError('noise levels need a NoiseEstimatingMaskHead')
        boxes = [get_box_tensor(s.gt_instances.bboxes)
                 for s in batch_data_samples]
        if sum(len(b) for b in boxes) == 0:
            return [b.new_zeros(0) for b in boxes]
        feats = self.mask_roi_extractor(
            x[:self.mask_roi_extractor.num_inputs], bbox2roi(boxes))
        _, log_var = self.mask_head.forward_with_noise(feats)
        return list(log_var.exp().flatten(1).mean(1).split(
            [len(b) for b in boxes]))

    @property
    def eta(self) -> float:
        """Eq. 7's eta; a calibration json is read on first use (training
        only, so testing the config needs no json)."""
        if self._eta is None:
            self._eta = read_eta(self._eta_source)
        return self._eta

    def _logit_scale(self) -> Tensor:
        return self.bbox_head.fc_cls.log_scale.exp()

    def _image_words(self, samples, gts, logits: Tensor) -> Tensor:
        """``[N, |V_C|]``: True for the words of each object's image."""
        allowed = torch.zeros_like(logits, dtype=torch.bool)
        start = 0
        for s, g in zip(samples, gts):
            words = s.metainfo.get('caption_words')
            if words is None:
                raise KeyError("softmax_over='image' needs metainfo "
                               "'caption_words' (CaptionPseudoLabelDataset; "
                               'add it to PackDetInputs meta_keys)')
            n = len(g.labels)
            allowed[start:start + n, list(words)] = True
            allowed[torch.arange(start, start + n), g.labels.long()] = True
            start += n
        return allowed

    def caption_loss(self, x: tuple[Tensor], batch_data_samples) -> dict:
        """``L_X^alpha`` and ``L_M`` of captioned images (module doc)."""
        gts = [s.gt_instances for s in batch_data_samples]
        boxes = [get_box_tensor(g.bboxes) for g in gts]
        labels = torch.cat([g.labels for g in gts]).long()
        num = int(labels.numel())
        # every trainable head parameter in the graph (box regression and the
        # classifier's background are unused here): distributed training
        # needs no find_unused_parameters, and an image without pseudo
        # labels still gives a loss with a gradient
        zero = sum(p.sum() * 0 for p in self.parameters() if p.requires_grad)
        if num == 0:
            return {'loss_xpm_x': zero, 'loss_xpm_mask': zero}
        if int(labels.max()) >= len(self.caption_words):
            raise ValueError(f'word label {int(labels.max())} is outside the '
                             f'caption vocabulary {self.caption_vocabulary} '
                             f'({len(self.caption_words)} words)')
        rois = bbox2roi(boxes)
        bbox_feats = self.bbox_roi_extractor(
            x[:self.bbox_roi_extractor.num_inputs], rois)
        emb = self.bbox_head.region_embeddings(bbox_feats)
        logits = self._logit_scale() * emb @ self.word_embeddings.t()
        if self.softmax_over == 'image':
            logits = logits.masked_fill(
                ~self._image_words(batch_data_samples, gts, logits),
                MASKED_LOGIT)
        ce = F.cross_entropy(logits, labels, reduction='none')
        mask_feats = self.mask_roi_extractor(
            x[:self.mask_roi_extractor.num_inputs], rois)
        targets = mask_target(
            boxes, [torch.arange(len(b), device=labels.device) for b in boxes],
            [g.masks for g in gts], self.train_cfg)[:, None]
        if self.noise:
            mask_logits, log_var = self.mask_head.forward_with_noise(
                mask_feats)
            loss_m = reparametrised_bce(mask_logits, log_var, targets)
            alpha = reliability(log_var, self.eta)
            noise_level = log_var.detach().exp().mean()
        else:
            mask_logits = self.mask_head(mask_feats)
            loss_m = F.binary_cross_entropy_with_logits(mask_logits, targets)
            alpha = torch.ones_like(ce)
            noise_level = ce.new_zeros(())
        loss_x = (alpha * ce).mean()
        return {'loss_xpm_x': self.loss_x_weight * loss_x + zero,
                'loss_xpm_mask': self.loss_m_weight * loss_m,
                'xpm_alpha': alpha.mean(), 'xpm_noise': noise_level}
