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


@TRANSFORMS.register_module()
class RandomRegions(BaseTransform):
    """``num_boxes`` random boxes as the pretraining regions instead of RPN
    proposals (RegionCLIP Table 6: "We replace the RPN proposals by randomly
    sampling the same number of image regions"), in the same ``proposals`` /
    ``proposals_scores`` fields that :class:`LoadCaptionProposals` fills (use
    one of the two, before ``Resize``; the dataset needs no
    ``proposal_file``).

    The paper does not say how the boxes are drawn. Ours: each side's two
    coordinates are drawn uniformly over the image and sorted, so every
    position and size is possible; a box whose width or height is below
    ``min_size`` pixels is drawn again (at most 100 rounds, then the box is
    grown to ``min_size`` around its centre, clipped to the image). Scores
    are 1 (no ranking among random boxes).
    """

    def __init__(self, num_boxes: int = 100, min_size: float = 8.0) -> None:
        if num_boxes < 1 or min_size < 0:
            raise ValueError(f'num_boxes must be >= 1 and min_size >= 0, got '
                             f'{num_boxes} and {min_size}')
        self.num = num_boxes
        self.min_size = float(min_size)

    def _sides(self, size: float, n: int) -> np.ndarray:
        """``[n, 2]`` sorted coordinate pairs in ``[0, size]`` at least
        ``min_size`` apart (or the whole side when it is shorter)."""
        need = min(self.min_size, size)
        out = np.sort(np.random.uniform(0, size, (n, 2)), axis=1)
        for _ in range(100):
            bad = out[:, 1] - out[:, 0] < need
            if not bad.any():
                return out
            out[bad] = np.sort(np.random.uniform(0, size, (bad.sum(), 2)),
                               axis=1)
        bad = out[:, 1] - out[:, 0] < need
        centre = out[bad].mean(1).clip(need / 2, size - need / 2)
        out[bad] = np.stack([centre - need / 2, centre + need / 2], 1)
        return out

    def transform(self, results: dict) -> dict:
        h, w = results['img'].shape[:2]
        xs, ys = self._sides(w, self.num), self._sides(h, self.num)
        results['proposals'] = np.stack(
            [xs[:, 0], ys[:, 0], xs[:, 1], ys[:, 1]], 1).astype(np.float32)
        results['proposals_scores'] = np.ones(self.num, np.float32)
        return results
