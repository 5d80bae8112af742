"""Extra image-label data with whole-image boxes (RichSem Sec. 3.1, 3.3).

RichSem trains a detector on detection data together with extra
classification data. Each extra image gets the whole-image box
``b^img = (0, 0, w, h)`` of the *augmented* image as its coarse location
(Sec. 3.1, Eq. 2; :class:`~ovd_ext.datasets.transforms.WholeImageBox` resets
it after the geometric augmentations) and its image-level labels mapped to
the detector's classes by the taxonomy map M (Eq. 6,
:mod:`ovd_ext.datasets.taxonomy`). Unlabelled extra data (Eq. 7) get label
-1, which the model fills from its CLIP teacher.

Json: Detic's image-label format (``images[i]['pos_category_ids']``, e.g.
ImageNet-LVIS) and/or COCO-style ``annotations`` without ``bbox`` (their
``category_id``); ``categories`` give the names.
"""
from __future__ import annotations

import logging
import os.path as osp
from collections import Counter

from mmdet.datasets import BaseDetDataset
from mmdet.registry import DATASETS
from mmengine.fileio import load
from mmengine.logging import print_log

from .taxonomy import build_taxonomy_map

UNMAPPED_MODES = ('skip', 'soft', 'error')


@DATASETS.register_module()
class ImageLabelDataset(BaseDetDataset):
    """Image-level labels as one whole-image box per distinct label.

    Data info of each image::

        dict(img_id, img_path, height, width, image_label=True,
             instances=[dict(bbox=[0., 0., width, height],
                             bbox_label=<detector class index or -1>,
                             ignore_flag=0), ...])

    one instance per distinct mapped label, in label order of the json
    (``pos_category_ids`` first, then annotations).

    Args:
        ann_file, data_root, data_prefix (``img``), metainfo (``classes``:
            the detector's), pipeline, filter_cfg (only ``min_size``): as
            mmdet.
        taxonomy: the map M of json category names the detector classes
            lack (Eq. 6): None (by name), a .json file, or a dict, see
            :func:`~ovd_ext.datasets.taxonomy.build_taxonomy_map`.
        unmapped: an image's unmapped labels are dropped and counted in
            :attr:`unmapped_counts`; an image left without a mapped label is
            dropped (``'skip'``) or kept with one label -1 instance, so only
            the soft / teacher label applies (``'soft'``); ``'error'`` raises
            at the first unmapped label.
        unlabeled: Eq. 7: ignore the json labels; every image gets one
            instance with label -1.
        max_images: keep the first n kept images (quick runs).
    """

    METAINFO = {'classes': ()}

    def __init__(self, *args, taxonomy: str | dict | None = None,
                 unmapped: str = 'skip', unlabeled: bool = False,
                 max_images: int | None = None, **kwargs) -> None:
        if unmapped not in UNMAPPED_MODES:
            raise ValueError(f'unmapped must be one of {UNMAPPED_MODES}, '
                             f'got {unmapped!r}')
        self.taxonomy = taxonomy
        self.unmapped = unmapped
        self.unlabeled = unlabeled
        self.max_images = max_images
        self.unmapped_counts: Counter = Counter()
        self.num_no_label = 0
        self.num_only_unmapped = 0
        super().__init__(*args, **kwargs)

    # ------------------------------------------------------------------ load
    def _image_labels(self, data: dict) -> dict[int, list[int]]:
        """Category ids of every image: ``pos_category_ids`` then the
        annotations' ``category_id``, deduplicated, in order."""
        labels: dict[int, list[int]] = {}
        for img in data.get('images', []):
            labels[img['id']] = list(img.get('pos_category_ids', []))
        for ann in data.get('annotations', []):
            if ann['image_id'] not in labels:
                raise ValueError(f'{self.ann_file}: annotation {ann.get("id")}'
                                 f' names image {ann["image_id"]}, which is '
                                 'not in images')
            labels[ann['image_id']].append(ann['category_id'])
        return {k: list(dict.fromkeys(v)) for k, v in labels.items()}

    def _category_map(self, data: dict) -> tuple[dict[int, str],
                                                 dict[int, int]]:
        """Json category id -> name, and -> detector class index (mapped
        ones only)."""
        classes = list(self._metainfo.get('classes', ()))
        names = {c['id']: c['name'] for c in data.get('categories', [])}
        mapping = build_taxonomy_map(self.taxonomy, list(names.values()),
                                     classes)
        index = {c: i for i, c in enumerate(classes)}
        to_label = {cid: index[mapping[n]] for cid, n in names.items()
                    if n in mapping}
        return names, to_label

    def _instances(self, img: dict, cat_ids: list[int],
                   names: dict[int, str], to_label: dict[int, int]
                   ) -> list[dict] | None:
        """Whole-image instances of one image, or None to drop it."""
        w, h = img['width'], img['height']

        def box(label: int) -> dict:
            return dict(bbox=[0., 0., float(w), float(h)], bbox_label=label,
                        ignore_flag=0)

        if self.unlabeled:
            return [box(-1)]
        if not cat_ids:
            self.num_no_label += 1
            return None
        labels = []
        for cid in cat_ids:
            if cid not in names:
                raise ValueError(f'{self.ann_file}: image {img["id"]} has '
                                 f'category id {cid}, which is not in '
                                 'categories')
            if cid in to_label:
                labels.append(to_label[cid])
                continue
            if self.unmapped == 'error':
                raise ValueError(
                    f'{self.ann_file}: image {img["id"]} has label '
                    f'{names[cid]!r} (category id {cid}), which maps to no '
                    'detector class; give a taxonomy (Eq. 6) or '
                    "unmapped='skip' / 'soft'")
            self.unmapped_counts[names[cid]] += 1
        labels = list(dict.fromkeys(labels))
        if labels:
            return [box(label) for label in labels]
        self.num_only_unmapped += 1
        return [box(-1)] if self.unmapped == 'soft' else None

    def load_data_list(self) -> list[dict]:
        data = load(self.ann_file)
        if not isinstance(data, dict) or 'images' not in data:
            raise ValueError(f'{self.ann_file}: expected a json with images')
        self.unmapped_counts = Counter()
        self.num_no_label = self.num_only_unmapped = 0
        if self.unlabeled:
            names, to_label, labels = {}, {}, {}
        else:
            names, to_label = self._category_map(data)
            labels = self._image_labels(data)
        infos = []
        images = data['images']
        for img in images:
            for key in ('id', 'file_name', 'width', 'height'):
                if key not in img:
                    raise ValueError(f'{self.ann_file}: image {img.get("id")}'
                                     f' has no {key!r}')
            instances = self._instances(img, labels.get(img['id'], []),
                                        names, to_label)
            if instances is None:
                continue
            infos.append(dict(
                img_id=img['id'], height=img['height'], width=img['width'],
                img_path=osp.join(self.data_prefix.get('img', ''),
                                  img['file_name']),
                image_label=True, instances=instances))
            if self.max_images and len(infos) >= self.max_images:
                break
        self._report_unmapped()
        if not infos:
            raise ValueError(self._empty_message(len(images)))
        return infos

    def _report_unmapped(self) -> None:
        """Log the unmapped extra classes once (counts of images)."""
        if not self.unmapped_counts:
            return
        common = self.unmapped_counts.most_common()
        shown = ', '.join(f'{n} ({c})' for n, c in common[:20])
        more = f' and {len(common) - 20} more' if len(common) > 20 else ''
        what = ('dropped' if self.unmapped == 'skip'
                else 'kept with label -1 (soft labels only)')
        print_log(
            f'{type(self).__name__} {self.ann_file}: {len(common)} labels map '
            f'to no detector class (images): {shown}{more}; '
            f'{self.num_only_unmapped} images had only unmapped labels and '
            f'were {what}', logger='current', level=logging.WARNING)

    def _empty_message(self, num_images: int) -> str:
        why = [f'{self.num_only_unmapped} had only unmapped labels '
               f"(unmapped={self.unmapped!r})",
               f'{self.num_no_label} had no label']
        classes = self._metainfo.get('classes', ())
        hint = ('' if classes else '; the detector has no classes: set '
                'metainfo=dict(classes=...)')
        return (f'{self.ann_file}: 0 of {num_images} images kept: '
                f'{", ".join(why)}{hint}')

    # ---------------------------------------------------------------- access
    def filter_data(self) -> list[dict]:
        """Keep every image; with ``filter_cfg.min_size``, only those whose
        width and height reach it."""
        min_size = (self.filter_cfg or {}).get('min_size', 0)
        if not min_size:
            return self.data_list
        return [d for d in self.data_list
                if min(d['width'], d['height']) >= min_size]

    def get_cat_ids(self, idx: int) -> list[int]:
        """Detector labels of image ``idx`` (>= 0 only: -1 is no class), for
        mmdet's ``ClassBalancedDataset``."""
        return [i['bbox_label'] for i in self.get_data_info(idx)['instances']
                if i['bbox_label'] >= 0]
