"""Pseudo labels: a core any method can use, and one labeler per method.

Core (names no method):

* :mod:`.record`: the one pseudo-label record (boxes, category ids, scores,
  optional RLE masks and extra per-instance fields), its json schema
  (``info.format_version``) and checked loading;
* :mod:`.labeler`: the ``PSEUDO_LABELERS`` registry and the labeler
  interface (``header()``, ``load()``, ``__call__(image_info, bgr_image)``);
* :mod:`.runner` / :mod:`.shards` / :mod:`.merge`: the sharded, resumable,
  atomic runner for any labeler (:func:`run_labeler`) and the shard merge;
* :mod:`.quality`: AP@PL and #@PL (VL-PLM Table 4) on faster-coco-eval.

Labelers: :mod:`.vl_plm` (``type='VLPLMLabeler'``), :mod:`.xpm`
(``type='XPMLabeler'``)::

    from ovd_ext.pseudo_labels import run_labeler
    report = run_labeler(dict(type='VLPLMLabeler', ...), ann_file, img_dir,
                         out, workers=2)['report']
"""
from . import vl_plm  # noqa: F401  (registers the VL-PLM labeler)
from . import xpm  # noqa: F401  (registers the XPM labeler)
from .draw import draw_pseudo_labels
from .labeler import PSEUDO_LABELERS, BaseLabeler, SkipImage, build_labeler
from .merge import merge_shards
from .quality import IMAGE_SETS, pseudo_label_quality
from .record import (DROP_REASONS, FORMAT_VERSION, PseudoLabelFormatError,
                     check_annotations, check_record, load_pseudo_labels,
                     make_rows)
from .runner import run_labeler, run_shard
from .shards import (ShardLog, parse_shard, report_path, shard_images,
                     shard_path)
from .vl_plm import VLPLMLabeler
from .xpm import XPMLabeler

__all__ = [
    'draw_pseudo_labels', 'PSEUDO_LABELERS', 'BaseLabeler', 'SkipImage',
    'build_labeler',
    'merge_shards', 'IMAGE_SETS', 'pseudo_label_quality', 'DROP_REASONS',
    'FORMAT_VERSION', 'PseudoLabelFormatError', 'check_annotations',
    'check_record', 'load_pseudo_labels', 'make_rows', 'run_labeler',
    'run_shard', 'ShardLog', 'parse_shard', 'report_path', 'shard_images',
    'shard_path', 'VLPLMLabeler', 'XPMLabeler',
]
