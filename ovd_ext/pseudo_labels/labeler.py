"""What a pseudo labeler is, and the registry that builds one from a config.

A labeler labels one image at a time::

    labeler = build_labeler(dict(type='VLPLMLabeler', ...), ann_file)
    labeler.header()            # json-able settings: shards must agree on it
    labeler.load()              # models etc. (only when there is work left)
    rows = labeler(image_info, bgr_image)   # rows of :mod:`.record`
    rows, dropped = labeler(...)            # or rows + {reason: count} of
                                            # items it dropped in the image

A labeler skips a whole image by raising :class:`SkipImage` (e.g. XPM: a
caption without object words); the runner records, counts and lists it like
an unreadable image. A labeler whose output categories are not the source
json's (XPM: its caption vocabulary) puts them in its header as
``categories`` (``[{"id", "name"}]``); the merged json then carries those.

Building is cheap and checks every setting, so a bad config fails before
anything is written; :meth:`BaseLabeler.load` does the heavy part (weights),
so a run whose images are all done, or a shard merge, never loads a model.
Any method registers its labeler with ``@PSEUDO_LABELERS.register_module()``
and the runner (:func:`~.runner.run_labeler`) runs it, sharded and resumable.
"""
from __future__ import annotations

import copy
from typing import Any

import numpy as np
from mmengine.registry import Registry

#: Registry of per-image pseudo labelers (``type=`` in a labeler config).
PSEUDO_LABELERS = Registry('pseudo labeler', scope='ovd_ext')


class SkipImage(Exception):
    """Raised by a labeler for an image it cannot label; ``reason`` is the
    short key it is counted under (the message says why)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class BaseLabeler:
    """Base class of registered labelers.

    Args:
        ann_file: COCO/LVIS json of the images to label; its ``categories``
            give the output category ids.
    """

    def __init__(self, ann_file: str) -> None:
        self.ann_file = ann_file

    def header(self) -> dict:
        """Everything the labels depend on (json-able): a shard written with
        another header is neither resumed nor merged."""
        raise NotImplementedError

    def load(self) -> None:
        """Load models; called once, before the first image."""

    def __call__(self, image_info: dict, image: np.ndarray
                 ) -> list[dict] | tuple[list[dict], dict[str, int]]:
        """Rows (:mod:`.record`) of one BGR ``HxWx3`` image whose COCO record
        is ``image_info``, optionally with counts of items dropped in it by
        reason; raise :class:`SkipImage` to skip the image."""
        raise NotImplementedError


def build_labeler(cfg: dict, ann_file: str) -> BaseLabeler:
    """Build the labeler ``cfg`` (``type`` = a registered name) for the
    images of ``ann_file``."""
    if not isinstance(cfg, dict) or 'type' not in cfg:
        raise ValueError('a pseudo labeler config is a dict with a "type" '
                         f'(one of {sorted(PSEUDO_LABELERS.module_dict)}), '
                         f'got {cfg!r:.100}')
    kind = cfg['type']
    cls: Any = kind if isinstance(kind, type) else PSEUDO_LABELERS.get(kind)
    if cls is None:
        raise KeyError(f'unknown pseudo labeler type {kind!r}; registered: '
                       f'{sorted(PSEUDO_LABELERS.module_dict)}')
    args = copy.deepcopy({k: v for k, v in cfg.items() if k != 'type'})
    return cls(ann_file=ann_file, **args)
