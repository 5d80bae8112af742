"""``OVDCocoMetric``: open-vocabulary COCO AP50 on base / novel / all classes.

mmdet 3.3.0 ships ``OVCocoMetric``, but it does not fit our configs: it reads
the split from ``dataset_meta['base_classes' / 'novel_classes']`` rather
than from the metric's config, rounds to 3 decimals, takes AP at the last of
``proposal_nums`` (1000 detections) instead of COCO's 100, and has no
"all = base + novel" figure. This metric keeps mmdet's ``CocoMetric``
machinery (data samples, ``results2json``, ``format_only``) and evaluates
with faster-coco-eval, whose numbers equal pycocotools' ``COCOeval``.

Keys (``{metric}`` is 'bbox' or 'segm'): ``{metric}_AP50_base``,
``{metric}_AP50_novel``, ``{metric}_AP50_all`` and the same for AP@[.5:.95]
(``{metric}_AP_base`` ...). "all" is the union of base and novel classes,
as in the 48/17 COCO OVD benchmark.
"""
import os.path as osp
import tempfile
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
from faster_coco_eval import COCO
from faster_coco_eval.core.faster_eval_api import COCOeval_faster
from mmdet.evaluation.metrics import CocoMetric
from mmdet.registry import METRICS
from mmengine.fileio import get_local_path, load
from mmengine.logging import MMLogger

from .lvis_metric import check_predictions, require_box_or_mask

SPLITS = ('base', 'novel', 'all')


def _silent(*args, **kwargs) -> None:
    """Swallow faster-coco-eval's progress prints."""


def _mean_valid(s: np.ndarray) -> float:
    """pycocotools' mean over entries > -1, or -1 when there are none."""
    valid = s[s > -1]
    return float(np.mean(valid)) if valid.size else -1.0


@METRICS.register_module()
class OVDCocoMetric(CocoMetric):
    """COCO-style AP50 (and AP) split into base / novel / all classes.

    Args:
        ann_file: COCO-format json; when None the GT is converted from the
            data samples as ``CocoMetric`` does.
        metric: 'bbox', 'segm' or both.
        base_classes: base class names; default
            ``dataset_meta['base_classes']``.
        novel_classes: novel class names; default
            ``dataset_meta['novel_classes']``.
        max_dets: detections per image and category (COCO: 100).
        format_only / outfile_prefix / backend_args / collect_device /
            prefix: as in ``CocoMetric``.
    """
    default_prefix: Optional[str] = 'coco'

    def __init__(self,
                 ann_file: Optional[str] = None,
                 metric: Union[str, List[str]] = 'bbox',
                 base_classes: Optional[Sequence[str]] = None,
                 novel_classes: Optional[Sequence[str]] = None,
                 max_dets: int = 100,
                 format_only: bool = False,
                 outfile_prefix: Optional[str] = None,
                 backend_args: Optional[dict] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(
            ann_file=None,
            metric=metric,
            format_only=format_only,
            outfile_prefix=outfile_prefix,
            backend_args=backend_args,
            collect_device=collect_device,
            prefix=prefix)
        require_box_or_mask(self.metrics, 'OVDCocoMetric')
        self.ann_file = ann_file
        self.max_dets = max_dets
        self.base_classes = None if base_classes is None else list(
            base_classes)
        self.novel_classes = None if novel_classes is None else list(
            novel_classes)
        if ann_file is not None:
            with get_local_path(ann_file, backend_args=backend_args) as path:
                self._coco_api = COCO(path)

    def _split(self, key: str, given: Optional[List[str]]) -> List[str]:
        """A class-name list from the config, else from ``dataset_meta``."""
        if given is not None:
            return given
        meta = self.dataset_meta or {}
        if key not in meta:
            raise ValueError(f'OVDCocoMetric: give {key}= in the metric '
                             f'config (dataset_meta has no {key!r})')
        return list(meta[key])

    def _cat_ids_of(self, names: Sequence[str], what: str) -> List[int]:
        """Category ids for names, with an error naming the file/name."""
        by_name = {c['name']: c['id']
                   for c in self._coco_api.dataset['categories']}
        missing = [n for n in names if n not in by_name]
        if missing:
            where = self.ann_file or 'the ground truth converted from the ' \
                'dataset'
            raise ValueError(f'{what} {missing} are not categories of '
                             f'{where}')
        return [by_name[n] for n in names]

    def _resolve_ids(self, with_split: bool = True) -> None:
        """Label -> category id map, and (if asked) base / novel id sets."""
        classes = (self.dataset_meta or {}).get('classes')
        if classes is None:
            self.cat_ids = [
                c['id'] for c in self._coco_api.dataset['categories']
            ]
        else:
            self.cat_ids = self._cat_ids_of(classes, 'dataset classes')
        if not with_split:
            return
        base = self._cat_ids_of(
            self._split('base_classes', self.base_classes), 'base_classes')
        novel = self._cat_ids_of(
            self._split('novel_classes', self.novel_classes),
            'novel_classes')
        both = set(base) & set(novel)
        if both:
            raise ValueError(f'category ids {sorted(both)} are both base '
                             'and novel')
        self.split_ids = dict(base=base, novel=novel, all=base + novel)

    def evaluate_json(self, dets: list, iou_type: str,
                      img_ids: Sequence[int]) -> Dict[str, float]:
        """AP50 / AP per split for COCO result dicts (pycocotools rules)."""
        gt = self._coco_api
        unknown = set(img_ids) - set(gt.imgs)
        if unknown:
            raise ValueError(f'image id {min(unknown)} of the predictions is '
                             f'not in {self.ann_file or "the ground truth"}')
        dt = gt.loadRes(dets)  # empty list -> empty result set
        cat_ids = sorted(self.split_ids['all'])
        ev = COCOeval_faster(gt, dt, iou_type, print_function=_silent)
        ev.params.imgIds = sorted(set(img_ids))
        ev.params.catIds = cat_ids
        ev.params.maxDets = [1, 10, self.max_dets]
        ev.evaluate()
        ev.accumulate()
        # [T, R, K, A, M] at area 'all' and the largest maxDets
        precision = np.asarray(ev.eval['precision'])[:, :, :, 0, -1]
        t50 = np.where(np.asarray(ev.params.iouThrs) == 0.5)[0]
        out = {}
        for split in SPLITS:
            idx = [cat_ids.index(c) for c in self.split_ids[split]]
            out[f'AP50_{split}'] = _mean_valid(precision[t50][:, :, idx])
            out[f'AP_{split}'] = _mean_valid(precision[:, :, idx])
        return out

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Evaluate the processed results (see mmengine ``BaseMetric``)."""
        logger: MMLogger = MMLogger.get_current_instance()
        gts, preds = zip(*results)
        tmp_dir = None
        if self.outfile_prefix is None:
            tmp_dir = tempfile.TemporaryDirectory()
            outfile_prefix = osp.join(tmp_dir.name, 'results')
        else:
            outfile_prefix = self.outfile_prefix
        eval_results: Dict[str, float] = OrderedDict()
        try:
            if self._coco_api is None:
                logger.info('Converting ground truth to coco format...')
                self._coco_api = COCO(
                    self.gt_to_coco_json(gts, outfile_prefix))
            self._resolve_ids(with_split=not self.format_only)
            check_predictions(preds, len(self.cat_ids), self.metrics,
                              self.ann_file or 'the dataset')
            result_files = self.results2json(preds, outfile_prefix)
            if self.format_only:
                logger.info('results are saved in '
                            f'{osp.dirname(outfile_prefix)}')
                return eval_results
            img_ids = [gt['img_id'] for gt in gts]
            for metric in self.metrics:
                stats = self.evaluate_json(
                    load(result_files[metric]), metric, img_ids)
                for key, val in stats.items():
                    eval_results[f'{metric}_{key}'] = val
                logger.info(f'{metric}: ' + ' '.join(
                    f'{k}={v:.4f}' for k, v in stats.items()))
        finally:
            if tmp_dir is not None:
                tmp_dir.cleanup()
        return eval_results
