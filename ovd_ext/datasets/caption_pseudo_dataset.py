"""Captioned images with cross-modal pseudo labels (XPM's D_C, Sec. 3.1).

``CaptionPseudoLabelDataset`` is mmdet's ``CocoDataset`` over a pseudo-label
json of :class:`~ovd_ext.pseudo_labels.XPMLabeler` (DESIGN.md §3): its
classes are the json's categories, the caption vocabulary V_C (each instance's
label is its caption word), each instance has its pseudo mask (RLE, decoded
by ``LoadAnnotations(with_mask=True)``), and every data info carries
``caption_pseudo=True`` and ``caption_words`` (the image's caption objects
as labels); add them to ``PackDetInputs``'s ``meta_keys`` so the student
(:class:`~ovd_ext.models.XPMMaskRCNN`) trains these images with XPM's
losses.

Checks: a record without a ``segmentation`` or otherwise malformed is an
error naming the file, the annotation id and the field; a record with a
non-finite score or box, or a box without area, is dropped and counted
(``pseudo_stats``, logged). With ``vocabulary`` (the student's caption word
embeddings) its class names must be the json's categories in order, else an
error names both files.
"""
from __future__ import annotations

from collections import Counter

from mmdet.datasets import CocoDataset
from mmdet.datasets.api_wrappers import COCO
from mmdet.registry import DATASETS
from mmengine.logging import print_log

from ..pseudo_labels.record import (PseudoLabelFormatError, check_record,
                                    read_pseudo_label_file)


class IdOrderedCOCO(COCO):
    """mmdet's COCO api with the categories sorted by id: ``CocoDataset``
    numbers labels in the order ``get_cat_ids`` returns (the file's), and a
    caption word's label must be its index in the id-ordered vocabulary."""

    def createIndex(self) -> None:
        if 'categories' in self.dataset:
            self.dataset['categories'] = sorted(
                self.dataset['categories'], key=lambda c: int(c['id']))
        super().createIndex()


@DATASETS.register_module()
class CaptionPseudoLabelDataset(CocoDataset):
    """See the module doc.

    Args:
        vocabulary: the caption word embeddings (.npy) the student uses;
            checked against the json's categories.
        **kwargs: ``CocoDataset`` arguments (``ann_file`` is the pseudo-label
            json; ``metainfo`` classes come from it).
    """

    COCOAPI = IdOrderedCOCO

    def __init__(self, *args, vocabulary: str | None = None,
                 **kwargs) -> None:
        self.vocabulary = vocabulary
        self.pseudo_stats: Counter = Counter()
        super().__init__(*args, **kwargs)

    def load_data_list(self) -> list[dict]:
        data = read_pseudo_label_file(self.ann_file)
        names = [c['name'] for c in sorted(data['categories'],
                                           key=lambda c: int(c['id']))]
        self._metainfo['classes'] = tuple(names)
        if self.vocabulary:
            from ..vlm.vocabulary import read_sidecar
            words = list(read_sidecar(self.vocabulary)['classes'])
            if words != names:
                first = next((i for i, (a, b) in enumerate(zip(words, names))
                              if a != b), min(len(words), len(names)))
                raise ValueError(
                    f'caption vocabulary mismatch: {self.vocabulary} has '
                    f'{len(words)} words, the pseudo labels {self.ann_file} '
                    f'{len(names)} categories; they differ from position '
                    f'{first}')
        self.pseudo_stats = Counter()
        data_list = super().load_data_list()
        st = self.pseudo_stats
        print_log(f'{type(self).__name__}: {st["kept"]} pseudo labels on '
                  f'{len(data_list)} images of {self.ann_file}; dropped: '
                  + (', '.join(f'{n} {k}' for k, n in sorted(st.items())
                               if k != 'kept') or 'none'), logger='current')
        return data_list

    def parse_data_info(self, raw_data_info: dict) -> dict:
        anns = []
        for ann in raw_data_info['raw_ann_info']:
            index = ann.get('id')
            reason = check_record(ann, self.ann_file, index)
            if reason is not None:
                self.pseudo_stats[reason] += 1
                continue
            if ann.get('segmentation') is None:
                raise PseudoLabelFormatError(
                    self.ann_file, index, 'segmentation',
                    'missing: caption pseudo labels need a pseudo mask')
            anns.append(ann)
        self.pseudo_stats['kept'] += len(anns)
        info = super().parse_data_info(dict(raw_data_info,
                                            raw_ann_info=anns))
        info['caption_pseudo'] = True
        info['caption_words'] = self._caption_words(anns)
        return info

    def _caption_words(self, anns: list[dict]) -> list[int]:
        """The image's caption objects O_c as labels: the records'
        ``caption_words`` (V_C indices, i.e. category id - 1), else their
        own labels."""
        words = set()
        for ann in anns:
            cats = ([int(w) + 1 for w in ann['caption_words']]
                    if 'caption_words' in ann else [ann['category_id']])
            for cat in cats:
                if cat not in self.cat2label:
                    raise PseudoLabelFormatError(
                        self.ann_file, ann.get('id'), 'caption_words',
                        f'word {cat - 1} is not a category (id {cat})')
                words.add(self.cat2label[cat])
        return sorted(words)
