"""faster-coco-eval's segm evaluation with every mask encoded at most once.

Used by :func:`ovd_ext.evaluation.fast_lvis_eval.evaluate_lvis` for
``iou_type='segm'``; the figures are those of stock ``COCOeval_faster``.
"""
import numpy as np
from faster_coco_eval import COCO
from faster_coco_eval.core import mask as mask_utils
from faster_coco_eval.core.faster_eval_api import COCOeval_faster

from .lvis_gt import LVISGroundTruth


def _compressed_rle(det: dict, img: dict) -> dict:
    """A detection's mask as an RLE that faster-coco-eval's ``iou`` reads.

    A compressed RLE (``counts`` a string) is used as given: parsing it is
    all that faster-coco-eval's own conversion does before the IoU.
    Polygons and uncompressed RLEs go through that same ``segmToRle``.
    """
    segm = det['segmentation']
    if isinstance(segm, dict) and isinstance(segm.get('counts'),
                                             (str, bytes)):
        return segm
    rle = mask_utils.segmToRle(segm, img['width'], img['height'])
    if not isinstance(rle, dict) or not isinstance(rle.get('counts'),
                                                   bytes):
        raise ValueError(
            f'detection of image id {det["image_id"]}, category id '
            f'{det["category_id"]}, score {det["score"]}: segmentation is '
            f'neither polygons nor an RLE: {str(segm)[:80]}')
    return rle


class EncodedMaskEval(COCOeval_faster):
    """faster-coco-eval's segm evaluation with masks encoded at most once.

    Stock ``COCOeval_faster`` re-encodes the mask of every GT and every
    detection of the run before any IoU (polygon or RLE -> RLE -> a new
    compressed string, parsed once more by ``iou``); on LVIS-sized results
    that is most of segm's time. Here nothing is encoded up front
    (``compute_rle`` off) and :meth:`computeIoU` takes GT masks from
    :meth:`LVISGroundTruth.mask_rles` (encoded once per GT, cached) and a
    detection's compressed RLE as given, only for (image, category) pairs
    that have both. Same instances, order, truncation and C++ ``rleIou``
    as the stock method, so the IoUs are bit-identical.
    """

    def __init__(self, gt: LVISGroundTruth, dt: COCO, **kwargs) -> None:
        super().__init__(gt.coco, dt, 'segm', **kwargs)
        self.params.compute_rle = False  # computeIoU reads masks itself
        self._lvis_gt = gt

    def computeIoU(self, imgId: int, catId: int):
        """[D, G] mask IoUs of one image and category (dets by score)."""
        gts = self.gt_dataset.get_instances([imgId], [catId], True)[0][0]
        dts = self.dt_dataset.get_instances([imgId], [catId], True)[0][0]
        if len(gts) == 0 or len(dts) == 0:
            return []
        order = np.argsort([-d['score'] for d in dts], kind='mergesort')
        img = self.cocoGt.imgs[imgId]
        d = [_compressed_rle(dts[i], img)
             for i in order[:self.params.maxDets[-1]]]
        return mask_utils.iou(d, self._lvis_gt.mask_rles(gts),
                              [int(g.get('iscrowd', 0)) for g in gts])
