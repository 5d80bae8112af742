"""Caption and proposal transforms for image-text pretraining."""
from __future__ import annotations

import numpy as np
from mmcv.transforms import BaseTransform
from mmdet.registry import TRANSFORMS


@TRANSFORMS.register_module()
class RandomCaption(BaseTransform):
    """Pick one of ``results['captions']`` at random into
    ``results['caption']`` (pack it with ``meta_keys`` of PackDetInputs)."""

    def transform(self, results: dict) -> dict:
        caps = results.get('captions') or []
        if not caps:
            raise KeyError(f"{results.get('img_path')}: no captions")
        results['caption'] = caps[np.random.randint(len(caps))]
        return results


@TRANSFORMS.register_module()
class LoadCaptionProposals(BaseTransform):
    """Dataset proposals into ``results`` for mmdet's ``LoadProposals``-free
    path: ``proposals`` [k, 4] and ``proposals_scores`` [k] are already
    there (CaptionDataset); keep the top ``num_max_proposals`` by score, or
    with ``sample_from`` a random ``num_max_proposals`` of the top
    ``sample_from`` (the official RegionCLIP pretraining: 100 of 300)."""

    def __init__(self, num_max_proposals: int = 100,
                 sample_from: int | None = None) -> None:
        if sample_from is not None and sample_from < num_max_proposals:
            raise ValueError(f'sample_from={sample_from} < '
                             f'num_max_proposals={num_max_proposals}')
        self.num = num_max_proposals
        self.sample_from = sample_from

    def transform(self, results: dict) -> dict:
        boxes = np.asarray(results['proposals'], np.float32).reshape(-1, 4)
        scores = np.asarray(results['proposals_scores'], np.float32)
        order = np.argsort(-scores, kind='stable')
        if self.sample_from is not None:
            top = order[:self.sample_from]
            if len(top) > self.num:
                top = np.sort(np.random.choice(top, self.num, replace=False))
            order = top
        else:
            order = order[:self.num]
        results['proposals'] = boxes[order]
        results['proposals_scores'] = scores[order]
        return results
