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
as in the 48/17 COCO OVD benchmark. These figures are taken over all the
evaluated images: XPM's "generalized" setting (XPM Sec. 4.1, Tables 1-2).

With ``constrained=True`` the metric also reports XPM's "constrained"
setting ("the model is only evaluated on test images belonging to either
base classes or target classes", Sec. 4.1; "Constrained" columns of Tables
1-2): ``{metric}_AP50_base_constrained``, ``{metric}_AP_base_constrained``,
``{metric}_AP50_novel_constrained`` and ``{metric}_AP_novel_constrained``.
For a split S (base or novel) the images are the evaluated images holding at
least one ground-truth annotation (crowd or not) of a class of S, and the
categories are S's; an S without such images gives -1. Limitation: the
scores are those of the generalized model, i.e. each detection's score comes
from the classifier over all classes, whereas the paper's constrained model
outputs only S's classes (a classifier re-normalised over S). Here the
constrained figures thus differ from the generalized ones only by the image
set; per-category COCO AP already ignores the detections of other classes.
"""
import os.path as osp
import tempfile
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple, Union

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
        constrained: also report XPM's constrained setting (Sec. 4.1,
            Tables 1-2) as ``AP50_base_constrained``,
            ``AP_base_constrained``, ``AP50_novel_constrained`` and
            ``AP_novel_constrained``: for split S, only the evaluated images
            with at least one ground-truth annotation (crowd or not) of a
            class of S, and only S's categories; -1 when no image has one.
            The detection scores are still the generalized model's
            (classifier over all classes), not those of a classifier
            re-normalised over S as in the paper, so these figures differ
            from the generalized ones by the image set only (per-category
            AP already ignores detections of other classes).
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
                 constrained: bool = False,
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
        self.constrained = constrained
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

    def _precision(self, gt: COCO, dt: COCO, iou_type: str,
                   img_ids: Sequence[int],
                   cat_ids: Sequence[int]) -> Tuple[np.ndarray, int]:
        """COCO precision [T, R, K] (area 'all', largest maxDets) of
        ``dt`` on ``img_ids`` x ``cat_ids`` (K in ``cat_ids`` order), and
        the index of IoU 0.5 in T."""
        ev = COCOeval_faster(gt, dt, iou_type, print_function=_silent)
        ev.params.imgIds = sorted(set(img_ids))
        ev.params.catIds = list(cat_ids)
        ev.params.maxDets = [1, 10, self.max_dets]
        ev.evaluate()
        ev.accumulate()
        # [T, R, K, A, M] at area 'all' and the largest maxDets
        precision = np.asarray(ev.eval['precision'])[:, :, :, 0, -1]
        t50 = int(np.where(np.asarray(ev.params.iouThrs) == 0.5)[0][0])
        return precision, t50

    def _constrained_img_ids(self, img_ids: Sequence[int],
                             cat_ids: Sequence[int]) -> List[int]:
        """The ``img_ids`` holding a GT annotation (crowd or not) of one
        of ``cat_ids``: the image set of XPM's constrained setting."""
        cats = set(cat_ids)
        with_cat = {
            a['image_id']
            for a in self._coco_api.dataset['annotations']
            if a['category_id'] in cats
        }
        return sorted(set(img_ids) & with_cat)

    def evaluate_json(self, dets: list, iou_type: str,
                      img_ids: Sequence[int]) -> Dict[str, float]:
        """AP50 / AP per split for COCO result dicts (pycocotools rules),
        plus the constrained-setting figures when ``self.constrained``."""
        gt = self._coco_api
        unknown = set(img_ids) - set(gt.imgs)
        if unknown:
            raise ValueError(f'image id {min(unknown)} of the predictions is '
                             f'not in {self.ann_file or "the ground truth"}')
        dt = gt.loadRes(dets)  # empty list -> empty result set
        cat_ids = sorted(self.split_ids['all'])
        precision, t50 = self._precision(gt, dt, iou_type, img_ids,
                                         cat_ids)
        out = {}
        for split in SPLITS:
            idx = [cat_ids.index(c) for c in self.split_ids[split]]
            out[f'AP50_{split}'] = _mean_valid(precision[t50][:, idx])
            out[f'AP_{split}'] = _mean_valid(precision[:, :, idx])
        if not self.constrained:
            return out
        for split in ('base', 'novel'):
            split_cats = sorted(self.split_ids[split])
            imgs = self._constrained_img_ids(img_ids, split_cats)
            if not imgs:  # no image of this split: nothing to average
                ap50 = ap = -1.0
            else:
                prec, t50 = self._precision(gt, dt, iou_type, imgs,
                                            split_cats)
                ap50 = _mean_valid(prec[t50])
                ap = _mean_valid(prec)
            out[f'AP50_{split}_constrained'] = ap50
            out[f'AP_{split}_constrained'] = ap
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
