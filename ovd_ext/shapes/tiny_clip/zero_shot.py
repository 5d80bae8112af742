"""Zero-shot classification of ground-truth object crops (COCO json).

Each GT box is cropped at 1x and 1.5x (:func:`ovd_ext.vlm.encode_crops`) and
classified by cosine similarity against prompt-ensembled class embeddings
(:func:`ovd_ext.vlm.encode_text`) with the project's one zero-shot scorer
(:mod:`ovd_ext.vlm.zero_shot`). The ``sum`` score adds the 1x and 1.5x
embeddings before normalising (VL-PLM Eq. 5, :func:`combine_scales`).
"""
from __future__ import annotations

import json
import os.path as osp
from typing import Sequence

import numpy as np
import torch

from ...utils.images import read_image
from ...vlm.crops import encode_crops
from ...vlm.text import ClassName, encode_text
from ...vlm.wrapper import CLIPWrapper
from ...vlm.zero_shot import classify, combine_scales


def load_gt_crops(ann_file: str, img_dir: str, classes: Sequence[str]
                  ) -> tuple[list[np.ndarray], list[torch.Tensor],
                             torch.Tensor]:
    """Images (HWC uint8 RGB), per-image xyxy GT boxes and the class index
    of every box (category id ``k`` is ``classes[k - 1]``; the json's own
    category names must match)."""
    with open(ann_file) as f:
        data = json.load(f)
    names = {c['id']: c['name'] for c in data['categories']}
    for cid, name in names.items():
        if not 1 <= cid <= len(classes) or classes[cid - 1] != name:
            raise ValueError(f'{ann_file}: category {cid} {name!r} does not '
                             f'match the class list {list(classes)}')
    per_image: dict[int, list[dict]] = {}
    for a in data['annotations']:
        per_image.setdefault(a['image_id'], []).append(a)
    images, boxes, labels = [], [], []
    for img in data['images']:
        anns = [a for a in per_image.get(img['id'], [])
                if a['bbox'][2] >= 1 and a['bbox'][3] >= 1]
        if not anns:
            continue
        images.append(read_image(osp.join(img_dir, img['file_name']),
                                 img.get('width'), img.get('height'),
                                 channel_order='rgb'))
        b = torch.tensor([a['bbox'] for a in anns], dtype=torch.float32)
        b[:, 2:] += b[:, :2]
        boxes.append(b)
        labels += [a['category_id'] - 1 for a in anns]
    return images, boxes, torch.tensor(labels, dtype=torch.long)


def crop_accuracy(clip: CLIPWrapper, images: Sequence[np.ndarray],
                  boxes: Sequence[torch.Tensor], labels: torch.Tensor,
                  class_names: Sequence[ClassName],
                  novel: Sequence[int] = (),
                  templates: str | Sequence[str] = 'imagenet80',
                  scales: Sequence[float] = (1.0, 1.5),
                  progress: bool = False) -> dict[str, dict[str, float]]:
    """Top-1 accuracy of zero-shot crop classification.

    Returns ``{variant: {'all', 'novel', 'base', 'n'}}`` with variants
    ``'1.0x'``, ``'1.5x'``, ... (one per scale) and ``'sum'`` (sum of all
    scales' embeddings, VL-PLM Eq. 5). ``novel`` holds class indices;
    ``'novel'`` / ``'base'`` are NaN when no crop falls in the group.
    """
    text = encode_text(clip, class_names, templates=templates)
    emb = encode_crops(clip, images, boxes, scales=scales, progress=progress)
    variants = {f'{s:.1f}x': emb[:, i] for i, s in enumerate(scales)}
    variants['sum'] = combine_scales(emb)
    is_novel = torch.isin(labels, torch.tensor(list(novel), dtype=torch.long))
    out = {}
    for name, e in variants.items():
        correct = (classify(e, text).cpu() == labels).float()
        out[name] = {
            'all': float(correct.mean()) if len(correct) else float('nan'),
            'novel': (float(correct[is_novel].mean()) if is_novel.any()
                      else float('nan')),
            'base': (float(correct[~is_novel].mean()) if (~is_novel).any()
                     else float('nan')),
            'n': int(len(correct))}
    return out


def per_class_accuracy(clip: CLIPWrapper, images: Sequence[np.ndarray],
                       boxes: Sequence[torch.Tensor], labels: torch.Tensor,
                       class_names: Sequence[ClassName],
                       templates: str | Sequence[str] = 'imagenet80',
                       scale: float = 1.0) -> list[float]:
    """Top-1 accuracy of each class at one crop scale (NaN: no crop)."""
    text = encode_text(clip, class_names, templates=templates)
    emb = encode_crops(clip, images, boxes, scales=(scale,))[:, 0]
    pred = classify(emb, text).cpu()
    return [float((pred[labels == c] == c).float().mean())
            if (labels == c).any() else float('nan')
            for c in range(len(class_names))]
