"""LVIS v1 ground truth: validation and indexing for federated evaluation."""
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Set, Tuple, Union

import numpy as np
from faster_coco_eval import COCO
from faster_coco_eval.core import mask as mask_utils
from mmengine.fileio import get_local_path, load

from ..utils.class_splits import frequency_groups


@dataclass
class LVISGroundTruth:
    """An LVIS ground truth indexed for fast federated evaluation.

    Attributes:
        coco: faster-coco-eval ``COCO`` over the annotations (crowd flags
            removed, as lvis-api ignores them).
        where: the file name (or a label) used in error messages.
        cat_ids: category ids in the json's order (= mmdet label order of
            ``LVISV1Dataset``).
        frequency: category id -> 'r' / 'c' / 'f'.
        names: category id -> name.
        img_ids: image ids in the json's order.
        sorted_img_ids / sorted_cat_ids: the ids as sorted int64 arrays.
        allowed_keys: sorted :meth:`pair_keys` of the (image, category)
            pairs whose detections count: the annotated and the negative
            categories of each image (LVIS federated protocol).
        rle_cache: annotation id -> compressed RLE of its mask, filled by
            :meth:`mask_rles` on first use.
    """
    coco: COCO
    where: str
    cat_ids: List[int]
    frequency: Dict[int, str]
    names: Dict[int, str]
    img_ids: List[int]
    sorted_img_ids: np.ndarray = field(repr=False)
    sorted_cat_ids: np.ndarray = field(repr=False)
    allowed_keys: np.ndarray = field(repr=False)
    rle_cache: Dict[int, dict] = field(default_factory=dict, repr=False)

    def mask_rles(self, anns: Sequence[dict]) -> List[dict]:
        """Compressed RLEs of GT annotations' masks, each encoded once.

        The encoding is faster-coco-eval's ``segmToRle`` (polygons are
        rasterised at the image size and merged), the very conversion its
        own segm evaluation repeats for every annotation in every run; here
        it is cached by annotation id, so later evaluations on this ground
        truth (e.g. every validation epoch) reuse it.
        """
        cache = self.rle_cache
        for ann in anns:
            if ann['id'] in cache:
                continue
            img = self.coco.imgs[ann['image_id']]
            rle = mask_utils.segmToRle(ann['segmentation'], img['width'],
                                       img['height'])
            # segmToRle hands back what it cannot convert
            if not isinstance(rle, dict) or \
                    not isinstance(rle.get('counts'), bytes):
                raise ValueError(
                    f'{self.where}: annotation id {ann["id"]} has a '
                    'segmentation that is neither polygons nor an RLE: '
                    f'{str(ann["segmentation"])[:80]}')
            cache[ann['id']] = rle
        return [cache[ann['id']] for ann in anns]

    def pair_keys(self, img_ids: np.ndarray,
                  cat_ids: np.ndarray) -> np.ndarray:
        """One int64 per (image id, category id), both known to the GT."""
        return (np.searchsorted(self.sorted_img_ids, img_ids) *
                len(self.sorted_cat_ids) +
                np.searchsorted(self.sorted_cat_ids, cat_ids))


def _check_ids(items: list, kind: str, where: str) -> None:
    seen: Set[int] = set()
    for item in items:
        if 'id' not in item:
            raise ValueError(f'{where}: a {kind} entry has no "id": {item}')
        if item['id'] in seen:
            raise ValueError(f'{where}: duplicate {kind} id {item["id"]}')
        seen.add(item['id'])


def build_lvis_gt(data: dict, where: str = '<LVIS dict>') -> LVISGroundTruth:
    """Validate an LVIS v1 style dict and index it for evaluation.

    ``data`` is not modified. Raises ``ValueError`` naming ``where`` and the
    offending item for a missing field or a dangling id.
    """
    for key in ('images', 'annotations', 'categories'):
        if key not in data:
            raise ValueError(f'{where}: no "{key}" list; not an LVIS json')
    cats, images = data['categories'], data['images']
    _check_ids(cats, 'category', where)
    _check_ids(images, 'image', where)
    _check_ids(data['annotations'], 'annotation', where)
    frequency_groups(cats, where)   # every category is 'r', 'c' or 'f'
    frequency = {cat['id']: cat['frequency'] for cat in cats}
    names = {cat['id']: cat.get('name', str(cat['id'])) for cat in cats}
    allowed: Set[Tuple[int, int]] = set()
    for img in images:
        for key in ('neg_category_ids', 'not_exhaustive_category_ids'):
            if key not in img:
                raise ValueError(f'{where}: image id {img["id"]} has no '
                                 f'"{key}"; not an LVIS json')
            bad = [c for c in img[key] if c not in frequency]
            if bad:
                raise ValueError(f'{where}: image id {img["id"]} lists '
                                 f'unknown category ids {bad} in "{key}"')
        allowed.update((img['id'], c) for c in img['neg_category_ids'])
    img_set = {img['id'] for img in images}
    anns = []
    for ann in data['annotations']:
        if ann.get('image_id') not in img_set:
            raise ValueError(f'{where}: annotation id {ann["id"]} refers to '
                             f'unknown image id {ann.get("image_id")}')
        if ann.get('category_id') not in frequency:
            raise ValueError(f'{where}: annotation id {ann["id"]} refers to '
                             f'unknown category id {ann.get("category_id")}')
        if ann.get('ignore'):
            raise ValueError(f'{where}: annotation id {ann["id"]} has an '
                             '"ignore" flag, which LVIS v1 does not use')
        for key in ('bbox', 'area'):
            if key not in ann:
                raise ValueError(
                    f'{where}: annotation id {ann["id"]} has no "{key}"')
        ann = {k: v for k, v in ann.items() if k != 'iscrowd'}
        allowed.add((ann['image_id'], ann['category_id']))
        anns.append(ann)
    coco = COCO()
    coco.dataset = dict(images=images, categories=cats, annotations=anns)
    coco.createIndex()
    pairs = np.array(sorted(allowed), dtype=np.int64).reshape(-1, 2)
    gt = LVISGroundTruth(
        coco=coco,
        where=where,
        cat_ids=[c['id'] for c in cats],
        frequency=frequency,
        names=names,
        img_ids=[img['id'] for img in images],
        sorted_img_ids=np.array(sorted(img_set), dtype=np.int64),
        sorted_cat_ids=np.array(sorted(frequency), dtype=np.int64),
        allowed_keys=np.zeros(0, dtype=np.int64))
    gt.allowed_keys = np.unique(gt.pair_keys(pairs[:, 0], pairs[:, 1]))
    return gt


def load_lvis_gt(source: Union[str, dict],
                 backend_args: Optional[dict] = None) -> LVISGroundTruth:
    """Load an LVIS json (path, possibly remote via mmengine) or a dict."""
    if isinstance(source, dict):
        return build_lvis_gt(source)
    with get_local_path(source, backend_args=backend_args) as local_path:
        data = load(local_path, file_format='json')
    return build_lvis_gt(data, where=str(source))
