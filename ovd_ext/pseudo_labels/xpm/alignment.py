"""XPM's cross-modal alignment and pseudo masks (Sec. 3.2.2-3.2.3).

* Eq. 2: ``b_o = argmax_r v_o^T h_Emb(f_r)``: for each caption object ``o``
  the proposal whose region embedding scores highest against the object's
  word embedding (one box per object, the paper's choice "to minimize
  false-positive predictions").
* Eq. 4: ``M_o = 1[h_Mask(f_{b_o}) >= 0]``: the teacher's mask logits at the
  aligned box, binarised at 0 (probability 0.5). Logits are pasted into the
  image (bilinear, mmdet's ``_do_paste_mask``) before binarising, so the
  threshold applies at image resolution.

The pseudo label's score: the paper ranks nothing; the authors' code passes
the alignment score through a sigmoid, which we keep (with unit-norm
embeddings ``sigmoid(cos)``, in (0.27, 0.73), ordered as the cosine).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import Tensor


def align_words(region_emb: Tensor, word_emb: Tensor) -> tuple[Tensor, Tensor]:
    """Eq. 2 for every word: ``(index of b_o [W], v_o^T h_Emb(f_{b_o}) [W])``.

    Args:
        region_emb: ``[R, D]`` region embeddings ``h_Emb(f_r)``.
        word_emb: ``[W, D]`` word embeddings ``v_o``.
    """
    if region_emb.ndim != 2 or word_emb.ndim != 2 or \
            region_emb.shape[1] != word_emb.shape[1]:
        raise ValueError(f'expected [R, D] regions and [W, D] words, got '
                         f'{tuple(region_emb.shape)} and '
                         f'{tuple(word_emb.shape)}')
    if region_emb.shape[0] == 0:
        raise ValueError('no regions to align the caption words with')
    scores = region_emb @ word_emb.t()          # [R, W]
    best, idx = scores.max(dim=0)
    return idx, best


def binarize_mask_logits(logits: Tensor) -> Tensor:
    """Eq. 4: ``1[logit >= 0]`` (bool, same shape)."""
    return logits >= 0


def paste_mask_logits(logits: Tensor, boxes: Tensor, height: int,
                      width: int) -> Tensor:
    """RoI mask logits ``[N, 1, m, m]`` (or ``[N, m, m]``) pasted into an
    ``height x width`` image at ``boxes`` (xyxy, image pixels):
    ``[N, height, width]`` logits, 0 outside the boxes' reach (negative
    infinity would not survive the bilinear resampling)."""
    from mmdet.models.roi_heads.mask_heads.fcn_mask_head import \
        _do_paste_mask
    if logits.ndim == 3:
        logits = logits[:, None]
    if logits.shape[0] == 0:
        return logits.new_zeros(0, height, width)
    pasted, _ = _do_paste_mask(logits.float(), boxes.float(), height, width,
                               skip_empty=False)
    # outside a box grid_sample reads zeros (padding): logit 0 would be
    # foreground at the threshold, so pixels outside the box are cleared
    ys = torch.arange(height, dtype=torch.float32)[:, None] + 0.5
    xs = torch.arange(width, dtype=torch.float32)[None, :] + 0.5
    b = boxes.float().cpu()
    inside = ((xs[None] >= b[:, 0, None, None]) &
              (xs[None] <= b[:, 2, None, None]) &
              (ys[None] >= b[:, 1, None, None]) &
              (ys[None] <= b[:, 3, None, None]))
    return torch.where(inside.to(pasted.device), pasted,
                       pasted.new_full((), -1.0))


def encode_masks(masks: Tensor) -> list[dict]:
    """Binary ``[N, H, W]`` masks as COCO RLE dicts with str counts."""
    from pycocotools import mask as mask_utils
    out = []
    for m in masks.cpu().numpy().astype(np.uint8):
        rle = mask_utils.encode(np.asfortranarray(m))
        rle['counts'] = rle['counts'].decode('ascii')
        out.append({'size': [int(v) for v in rle['size']],
                    'counts': rle['counts']})
    return out


def alignment_score(score: Tensor) -> Tensor:
    """The stored pseudo-label score: ``sigmoid`` of the alignment score
    (the authors' code; see the module doc)."""
    return torch.sigmoid(score)
