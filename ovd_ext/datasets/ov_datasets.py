"""Open-vocabulary splits over mmdet's COCO and LVIS v1 datasets.

The dataset metainfo carries ``classes`` (the full vocabulary), and
``base_classes`` / ``novel_classes`` (the names mmdet's ``OVCocoMetric`` and
our metrics read). With ``drop_novel=True`` (training) every novel annotation is
removed; an image left with no annotation is then treated as mmdet treats an
image without annotations (dropped when ``filter_cfg.filter_empty_gt``).

- COCO OVD: 48 base / 17 novel classes (Bansal et al. 2018, as used by
  OVR-CNN, ViLD, RegionCLIP, VL-PLM), listed in the config's metainfo.
- LVIS v1 OVD: rare classes are novel (866 base / 337 novel); the split is read
  from the annotation file's ``frequency`` field unless metainfo lists it.
"""
from __future__ import annotations

from mmdet.datasets import CocoDataset, LVISV1Dataset
from mmdet.registry import DATASETS
from mmengine.logging import print_log

from ..utils.class_splits import novel_classes, split_classes


class OVSplitMixin:
    """Adds base/novel metainfo and optional dropping of novel annotations."""

    def __init__(self, *args, drop_novel: bool = False, **kwargs) -> None:
        self.drop_novel = drop_novel
        self.num_dropped_novel = 0
        super().__init__(*args, **kwargs)

    def _rare_names(self) -> list[str]:
        """Novel names when metainfo does not list them (LVIS: rare)."""
        raise ValueError(f'{type(self).__name__}: metainfo must list '
                         f"'novel_classes' for {self.ann_file}")

    def load_data_list(self) -> list[dict]:
        """Load as mmdet does, fill base/novel metainfo, drop novel if asked."""
        data_list = super().load_data_list()
        classes = list(self._metainfo['classes'])
        novel = self._metainfo.get('novel_classes') or self._rare_names()
        base, _ = split_classes(classes, novel, where=self.ann_file)
        self._metainfo['novel_classes'] = tuple(novel)   # in the given order
        self._metainfo['base_classes'] = tuple(base)
        if self.drop_novel:
            novel_labels = {classes.index(n) for n in novel}
            for info in data_list:
                kept = [i for i in info['instances']
                        if i['bbox_label'] not in novel_labels]
                self.num_dropped_novel += len(info['instances']) - len(kept)
                info['instances'] = kept
            for label in novel_labels:   # images with only novel objects
                self.cat_img_map[self.cat_ids[label]] = []  # count as empty
            print_log(f'{type(self).__name__}: dropped {self.num_dropped_novel} '
                      f'annotations of {len(novel)} novel classes from '
                      f'{self.ann_file}', logger='current')
        return data_list

    def filter_data(self) -> list[dict]:
        """mmdet's filter, then drop images whose annotations were all novel."""
        data_list = super().filter_data()
        if (self.drop_novel and not self.test_mode and self.filter_cfg
                and self.filter_cfg.get('filter_empty_gt', False)):
            data_list = [d for d in data_list if d['instances']]
        return data_list


@DATASETS.register_module()
class OVCocoDataset(OVSplitMixin, CocoDataset):
    """COCO-format dataset with an open-vocabulary base/novel split."""


@DATASETS.register_module()
class OVLVISV1Dataset(OVSplitMixin, LVISV1Dataset):
    """LVIS v1 dataset whose rare classes are novel (LVIS OVD protocol)."""

    # mmdet's LVISV1Dataset.load_data_list sets ``self.lvis`` to the lvis api
    # and deletes it when done; catching the assignment keeps the categories
    # (with their frequencies) without loading the (large) annotation file a
    # second time.
    @property
    def lvis(self):
        """The lvis api object while mmdet loads the annotations."""
        return self._lvis_api

    @lvis.setter
    def lvis(self, api) -> None:
        self._lvis_api = api
        self._categories = api.dataset['categories']

    @lvis.deleter
    def lvis(self) -> None:
        del self._lvis_api

    def _rare_names(self) -> list[str]:
        """The rare classes among the dataset's classes (categories of the
        json outside ``metainfo['classes']`` are not loaded, so ignored)."""
        classes = list(self._metainfo['classes'])
        known = set(classes)
        return novel_classes(
            classes, categories=[c for c in self._categories
                                 if c['name'] in known], where=self.ann_file)
