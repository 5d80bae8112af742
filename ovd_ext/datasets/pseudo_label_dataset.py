"""Training data = ground truth + pseudo labels (VL-PLM Sec. 3.1, 3.3).

:class:`PseudoLabelDataset` is :class:`OVCocoDataset` (and
:class:`PseudoLabelLVISDataset` is :class:`OVLVISV1Dataset`) plus a
pseudo-label json (DESIGN.md §3: COCO format, ``score`` and ``pseudo: true``
per annotation, image and category ids of the source dataset):

* pseudo labels are merged into the instances of the same image, after the
  ground truth was loaded and (OVD, ``drop_novel=True``) its novel annotations
  dropped, so an OVD student sees base ground truth + novel pseudo labels;
* images of the pseudo-label json that the ground-truth json lacks (SSOD: the
  unlabeled split) are added with pseudo labels only; images whose only
  labels are pseudo labels are kept by ``filter_empty_gt``;
* ``pseudo_score_thr`` drops pseudo labels below a score (Eq. 3's
  ``[max p >= tau]``; the json is usually thresholded already);
* categories are matched by name, so the json's category ids only need to be
  consistent with its own ``categories`` list.

Pseudo instances are ordinary training instances (``ignore_flag=0``) that also
carry ``pseudo=True`` and their ``pseudo_score``.

Masks: a pseudo label that carries a ``segmentation`` (an RLE or polygons,
e.g. XPM's pseudo masks) brings its mask (RLE masks need mmdet's default
``LoadAnnotations(poly2mask=True)``). VL-PLM's pseudo labels are boxes: VL-PLM
trains Mask R-CNN students with box pseudo labels; its released code excludes
them from the mask loss, which in mmdet needs a RoI head that reads a
per-instance flag through the data pipeline. We instead give each box-only
pseudo label a box-shaped polygon (``pseudo_mask='box'``, the default): every
stock mmdet Mask R-CNN trains on it unchanged, at the cost of teaching
rectangular masks for pseudo-labelled objects (box AP, the paper's metric, is
unaffected by the mask target; only the class-agnostic mask head sees the
rectangles). ``pseudo_mask='mask'`` requires every pseudo label to have a
``segmentation``; ``pseudo_mask=None`` adds no mask (box-only models such as
Faster R-CNN).

The pseudo-label json is checked as :mod:`ovd_ext.pseudo_labels.record`
says: a malformed record is an error naming the file, the
record index and the field; records with a non-finite score or box, or a box
without area, are dropped, and every dropped pseudo label is counted by
reason (``pseudo_stats`` and the log).

In SSOD there are no novel classes: leave ``novel_classes`` out of the
metainfo and keep ``drop_novel=False``; every class is then "base".
"""
from __future__ import annotations

import os.path as osp
from collections import Counter

from mmdet.registry import DATASETS
from mmengine.fileio import join_path
from mmengine.logging import print_log

from ..pseudo_labels.record import (PseudoLabelFormatError, check_record,
                                    read_pseudo_label_file)
from .ov_datasets import OVCocoDataset, OVLVISV1Dataset

PSEUDO_MASK_MODES = ('box', 'mask', None)
#: fields every pseudo-label record needs (``score`` defaults to 1.0)
REQUIRED = ('image_id', 'category_id', 'bbox')
#: ``pseudo_stats`` keys of pseudo labels that are not merged.
DROP_KEYS = ('nonfinite_score', 'nonfinite_bbox', 'degenerate_bbox',
             'degenerate', 'below_thr', 'other_class', 'unknown_image')


def box_polygon(x1: float, y1: float, x2: float, y2: float) -> list:
    """A box as one COCO polygon (clockwise from the top-left corner)."""
    return [[x1, y1, x2, y1, x2, y2, x1, y2]]


def _file_name(info: dict) -> str:
    """An image record's file name (LVIS records only have ``coco_url``)."""
    if 'file_name' in info:
        return info['file_name']
    return info['coco_url'].replace('http://images.cocodataset.org/', '')


class PseudoLabelMixin:
    """Merge a pseudo-label json into the loaded data list (see module doc).

    Args:
        pseudo_ann_file: the pseudo-label json (relative to ``data_root``
            like ``ann_file``), or None for ground truth only.
        pseudo_score_thr: keep pseudo labels with ``score >= thr``.
        pseudo_classes: names whose pseudo labels are used (None: all).
        pseudo_mask: ``'box'`` (the record's ``segmentation``, else a
            box-shaped polygon), ``'mask'`` (the record's ``segmentation``,
            required) or None (no mask).
        add_pseudo_images: add images that only the pseudo-label json has.
    """

    def __init__(self, *args, pseudo_ann_file: str | None = None,
                 pseudo_score_thr: float = 0.0,
                 pseudo_classes: list[str] | tuple | None = None,
                 pseudo_mask: str | None = 'box',
                 add_pseudo_images: bool = True, **kwargs) -> None:
        if pseudo_mask not in PSEUDO_MASK_MODES:
            raise ValueError(f'pseudo_mask must be one of {PSEUDO_MASK_MODES},'
                             f' got {pseudo_mask!r}')
        self.pseudo_ann_file = pseudo_ann_file
        self.pseudo_score_thr = float(pseudo_score_thr)
        self.pseudo_classes = (None if pseudo_classes is None
                               else list(pseudo_classes))
        self.pseudo_mask = pseudo_mask
        self.add_pseudo_images = add_pseudo_images
        self.pseudo_stats: Counter = Counter()
        super().__init__(*args, **kwargs)

    def _rare_names(self) -> list[str]:
        """Without a novel split (SSOD; COCO metainfo without
        ``novel_classes``) every class is base, unless novel annotations are
        to be dropped."""
        try:
            return super()._rare_names()
        except ValueError:
            if self.drop_novel:
                raise
            return []

    def _join_root(self) -> None:
        super()._join_root()
        if (self.pseudo_ann_file and self.data_root
                and not osp.isabs(self.pseudo_ann_file)):
            self.pseudo_ann_file = join_path(self.data_root,
                                             self.pseudo_ann_file)

    def load_data_list(self) -> list[dict]:
        data_list = super().load_data_list()
        if self.pseudo_ann_file:
            data_list = self._merge_pseudo(data_list)
        return data_list

    def _label_map(self, pl: dict) -> dict[int, int]:
        """Pseudo-label category id -> dataset label, matched by name."""
        classes = list(self._metainfo['classes'])
        wanted = (set(classes) if self.pseudo_classes is None
                  else set(self.pseudo_classes))
        unknown = wanted - set(classes)
        if unknown:
            raise ValueError(f'pseudo_classes {sorted(unknown)[:3]} are not '
                             f'classes of {self.ann_file}')
        return {int(c['id']): classes.index(c['name'])
                for c in pl['categories']
                if c['name'] in classes and c['name'] in wanted}

    def _pseudo_instance(self, ann: dict, label: int, info: dict,
                         index: int) -> dict | None:
        x, y, w, h = (float(v) for v in ann['bbox'])
        x1, y1 = max(x, 0.0), max(y, 0.0)
        x2, y2 = min(x + w, float(info['width'])), min(y + h,
                                                       float(info['height']))
        if x2 - x1 < 1 or y2 - y1 < 1:
            return None
        inst = {'bbox': [x1, y1, x2, y2], 'bbox_label': label,
                'ignore_flag': 0, 'pseudo': True,
                'pseudo_score': float(ann.get('score', 1.0))}
        seg = ann.get('segmentation')
        if self.pseudo_mask == 'mask' and seg is None:
            raise PseudoLabelFormatError(
                self.pseudo_ann_file, index, 'segmentation',
                "missing (pseudo_mask='mask' needs a mask per pseudo label; "
                "use pseudo_mask='box' for box-only records)")
        if self.pseudo_mask is not None and seg is not None:
            size = seg.get('size') if isinstance(seg, dict) else None
            if size is not None and [int(v) for v in size] != [
                    int(info['height']), int(info['width'])]:
                raise PseudoLabelFormatError(
                    self.pseudo_ann_file, index, 'segmentation',
                    f'RLE size {list(size)} is not the image size '
                    f'[{info["height"]}, {info["width"]}] (height, width)')
            inst['mask'] = seg
        elif self.pseudo_mask == 'box':
            inst['mask'] = box_polygon(x1, y1, x2, y2)
        return inst

    def _merge_pseudo(self, data_list: list[dict]) -> list[dict]:
        path = self.pseudo_ann_file
        pl = read_pseudo_label_file(path)
        label_of = self._label_map(pl)
        known_cats = {int(c['id']) for c in pl['categories']}
        by_id = {d['img_id']: d for d in data_list}
        pl_images = {int(im['id']): im for im in pl.get('images', [])}
        st = self.pseudo_stats
        for index, ann in enumerate(pl['annotations']):
            st['loaded'] += 1
            dropped = check_record(ann, path, index, REQUIRED, known_cats)
            if dropped is not None:      # non-finite score / box, no area
                st[dropped] += 1
                continue
            img_id, cat = int(ann['image_id']), int(ann['category_id'])
            if float(ann.get('score', 1.0)) < self.pseudo_score_thr:
                st['below_thr'] += 1
                continue
            if cat not in label_of:
                st['other_class'] += 1
                continue
            info = by_id.get(img_id)
            if info is None:
                if not self.add_pseudo_images or img_id not in pl_images:
                    st['unknown_image'] += 1
                    continue
                info = self._new_image(pl_images[img_id])
                by_id[img_id] = info
                data_list.append(info)
                st['images_added'] += 1
            inst = self._pseudo_instance(ann, label_of[cat], info, index)
            if inst is None:
                st['degenerate'] += 1
                continue
            if not any(i.get('pseudo') for i in info['instances']):
                st['images_with_pseudo'] += 1
            info['instances'].append(inst)
            self.cat_img_map.setdefault(self.cat_ids[inst['bbox_label']],
                                        []).append(img_id)
            st['merged'] += 1
        drops = ', '.join(f'{st[k]} {k}' for k in DROP_KEYS if st[k])
        print_log(f'{type(self).__name__}: merged {st["merged"]} of '
                  f'{st["loaded"]} pseudo labels from {self.pseudo_ann_file} '
                  f'into {st["images_with_pseudo"]} images '
                  f'({st["images_added"]} images added); not merged: '
                  f'{drops or "none"} (score threshold '
                  f'{self.pseudo_score_thr})', logger='current')
        return data_list

    def _new_image(self, raw: dict) -> dict:
        raw = dict(raw, img_id=int(raw['id']), file_name=_file_name(raw))
        return self.parse_data_info({'raw_img_info': raw, 'raw_ann_info': []})


@DATASETS.register_module()
class PseudoLabelDataset(PseudoLabelMixin, OVCocoDataset):
    """COCO-format OVD / SSOD training set with merged pseudo labels."""


@DATASETS.register_module()
class PseudoLabelLVISDataset(PseudoLabelMixin, OVLVISV1Dataset):
    """LVIS v1 OVD training set (rare = novel) with merged pseudo labels."""
