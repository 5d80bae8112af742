"""``OVLVISMetric``: LVIS box / mask AP with APr/APc/APf, on faster-coco-eval.

A drop-in for mmdet's ``LVISMetric`` that never calls ``lvis.LVISEval``
(which crashes on numpy >= 1.24 and is slow): the figures are computed by
:func:`ovd_ext.evaluation.fast_lvis_eval.evaluate_lvis` and equal lvis-api's.
Data-sample processing, ``results2json``, ``format_only`` and
``outfile_prefix`` are mmdet's ``CocoMetric`` ones.
"""
import itertools
import os.path as osp
import tempfile
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
from faster_coco_eval import COCO
from mmdet.evaluation.metrics import CocoMetric
from mmdet.registry import METRICS
from mmengine.fileio import get_local_path, load
from mmengine.logging import MMLogger
from terminaltables import AsciiTable

from ..utils.class_splits import rare_category_ids
from .fast_lvis_eval import LVIS_AP_KEYS, LVIS_AR_KEYS, evaluate_lvis
from .lvis_gt import LVISGroundTruth, load_lvis_gt

NOVEL_KEYS = ('AP_novel', 'AP_base')


def require_box_or_mask(metrics: Sequence[str], who: str) -> None:
    """Both OV metrics evaluate only 'bbox' and 'segm'."""
    for m in metrics:
        if m not in ('bbox', 'segm'):
            raise KeyError(f"{who}: metric must be 'bbox' or 'segm', "
                           f'got {m!r}')


def check_predictions(preds: Sequence[dict], num_classes: int,
                      metrics: Sequence[str], where: str) -> None:
    """Fail early, naming the image, on labels outside the class range or
    on missing masks when ``segm`` is asked for."""
    for pred in preds:
        labels = np.asarray(pred['labels'])
        if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
            bad = labels[(labels < 0) | (labels >= num_classes)][0]
            raise ValueError(
                f'image id {pred.get("img_id")}: predicted label {bad} is '
                f'outside the {num_classes} categories of {where}')
        if 'segm' in metrics and 'masks' not in pred:
            raise ValueError(
                f'image id {pred.get("img_id")}: metric "segm" needs '
                'pred_instances.masks, but the prediction has none')


@METRICS.register_module()
class OVLVISMetric(CocoMetric):
    """LVIS v1 metric: AP, AP50, AP75, APs, APm, APl, APr, APc, APf.

    Keys are ``{metric}_{item}`` (``bbox_AP``, ``segm_APr``, ...), plus
    ``{metric}_AR@300`` (and s/m/l) and ``{metric}_AP_novel`` /
    ``{metric}_AP_base``. On LVIS the OVD novel classes are the rare ones,
    so by default ``AP_novel`` == ``APr``. Values are full-precision floats
    (mmdet's ``LVISMetric`` rounds to 3 decimals). The evaluated images are
    the ones processed (all of them in a normal test run).

    Args:
        ann_file: LVIS v1 json (``frequency`` per category,
            ``neg_category_ids`` / ``not_exhaustive_category_ids`` per
            image), the same file ``LVISV1Dataset`` reads.
        metric: 'bbox', 'segm' or both.
        classwise: log a per-category AP table.
        max_dets: detections kept per image (LVIS: 300).
        novel_classes: names of the novel categories; default: those with
            frequency 'r'.
        metric_items: which figures to return; default: all AP figures,
            AR@300 and the novel/base AP.
        format_only: only write ``{outfile_prefix}.{bbox,segm}.json``; then
            ``ann_file`` only needs ``categories`` (e.g. test-dev info).
        outfile_prefix: where to write the result jsons (else a temp dir).
        backend_args: mmengine file backend arguments for ``ann_file``.
        collect_device: 'cpu' or 'gpu', for distributed collection.
        prefix: metric key prefix; default 'lvis'.
    """
    default_prefix: Optional[str] = 'lvis'

    def __init__(self,
                 ann_file: str,
                 metric: Union[str, List[str]] = 'bbox',
                 classwise: bool = False,
                 max_dets: int = 300,
                 novel_classes: Optional[Sequence[str]] = None,
                 metric_items: Optional[Sequence[str]] = None,
                 format_only: bool = False,
                 outfile_prefix: Optional[str] = None,
                 backend_args: Optional[dict] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(
            ann_file=None,
            metric=metric,
            classwise=classwise,
            metric_items=metric_items,
            format_only=format_only,
            outfile_prefix=outfile_prefix,
            backend_args=backend_args,
            collect_device=collect_device,
            prefix=prefix)
        require_box_or_mask(self.metrics, 'OVLVISMetric')
        allowed = LVIS_AP_KEYS + LVIS_AR_KEYS + NOVEL_KEYS
        for item in metric_items or ():
            if item not in allowed:
                raise KeyError(f'OVLVISMetric: metric item {item!r} is not '
                               f'one of {allowed}')
        if not ann_file:
            raise ValueError('OVLVISMetric needs ann_file: the LVIS json '
                             'with frequency and neg/not-exhaustive ids')
        if max_dets <= 0:
            raise ValueError(f'max_dets must be positive, got {max_dets}')
        self.ann_file = ann_file
        self.max_dets = max_dets
        self.lvis_gt: Optional[LVISGroundTruth] = None
        self.novel_cat_ids: List[int] = []
        if format_only:  # e.g. test-dev image info: only categories needed
            with get_local_path(ann_file, backend_args=backend_args) as path:
                self._coco_api = COCO(path)
            cats = self._coco_api.dataset.get('categories', [])
        else:
            self.lvis_gt = load_lvis_gt(ann_file, backend_args)
            # CocoMetric.process takes GT from the ann file when this is set
            self._coco_api = self.lvis_gt.coco
            cats = self.lvis_gt.coco.dataset['categories']
            self.novel_cat_ids = self._resolve_novel(novel_classes)
        # mmdet's LVISV1Dataset labels follow the json's category order.
        self.cat_ids = [c['id'] for c in cats]

    def _resolve_novel(self, names: Optional[Sequence[str]]) -> List[int]:
        """Category ids of the novel names (default: rare categories)."""
        gt = self.lvis_gt
        if names is None:
            return rare_category_ids(gt.coco.dataset['categories'],
                                     self.ann_file)
        by_name = {n: c for c, n in gt.names.items()}
        missing = [n for n in names if n not in by_name]
        if missing:
            raise ValueError(f'novel_classes {missing} are not categories '
                             f'of {self.ann_file}')
        return [by_name[n] for n in names]

    def _check_dataset_classes(self, logger: MMLogger) -> None:
        """Warn when the dataset's class names disagree with the json."""
        classes = (self.dataset_meta or {}).get('classes')
        if classes is None:
            return
        names = [c['name'] for c in self._coco_api.dataset['categories']]
        if list(classes) != names:
            logger.warning(
                f'OVLVISMetric: dataset_meta has {len(classes)} classes that '
                f'differ from the {len(names)} categories of {self.ann_file}; '
                'labels are mapped by the json order, as LVISV1Dataset does')

    def _log_classwise(self, precision: np.ndarray, cat_ids: List[int],
                       metric: str, logger: MMLogger) -> None:
        """Per-category AP table (area 'all'), three pairs per row."""
        cells = []
        for k, cat_id in enumerate(cat_ids):
            p = precision[:, :, k, 0]
            p = p[p > -1]
            ap = float(np.mean(p)) if p.size else float('nan')
            cells += [self.lvis_gt.names[cat_id], f'{ap:0.3f}']
        cols = min(6, len(cells))
        rows = itertools.zip_longest(*[cells[i::cols] for i in range(cols)])
        table = AsciiTable([['category', 'AP'] * (cols // 2)] + list(rows))
        logger.info(f'{metric} per-category AP:\n' + table.table)

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Evaluate the processed results (see mmengine ``BaseMetric``)."""
        logger: MMLogger = MMLogger.get_current_instance()
        gts, preds = zip(*results)
        self._check_dataset_classes(logger)
        check_predictions(preds, len(self.cat_ids), self.metrics,
                          self.ann_file)
        img_ids = [gt['img_id'] for gt in gts]

        tmp_dir = None
        if self.outfile_prefix is None:
            tmp_dir = tempfile.TemporaryDirectory()
            outfile_prefix = osp.join(tmp_dir.name, 'results')
        else:
            outfile_prefix = self.outfile_prefix
        eval_results: Dict[str, float] = OrderedDict()
        try:
            result_files = self.results2json(preds, outfile_prefix)
            if self.format_only:
                logger.info('results are saved in '
                            f'{osp.dirname(outfile_prefix)}')
                return eval_results
            items = self.metric_items or (
                LVIS_AP_KEYS + LVIS_AR_KEYS + NOVEL_KEYS)
            for metric in self.metrics:
                logger.info(f'Evaluating {metric} (LVIS, faster-coco-eval)')
                res = evaluate_lvis(
                    self.lvis_gt,
                    load(result_files[metric]),
                    iou_type=metric,
                    img_ids=img_ids,
                    max_dets=self.max_dets,
                    novel_cat_ids=self.novel_cat_ids,
                    where=result_files[metric])
                if self.classwise:
                    self._log_classwise(res.precision, res.cat_ids, metric,
                                        logger)
                for item in items:
                    eval_results[f'{metric}_{item}'] = res.stats[item]
                logger.info(f'{metric}: ' + ' '.join(
                    f'{k}={res.stats[k]:.4f}'
                    for k in LVIS_AP_KEYS + NOVEL_KEYS + ('AR@300', )))
        finally:
            if tmp_dir is not None:
                tmp_dir.cleanup()
        return eval_results
