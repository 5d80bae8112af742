"""The one pseudo-label record and its json schema (DESIGN.md §3).

A labeler returns, per image, a list of **rows**::

    {'bbox': [x, y, w, h],            # image pixels, w > 0 and h > 0
     'category_id': int,              # an id of the source json's categories
     'score': float,                  # the labeler's confidence, finite
     'segmentation': {...},           # optional: RLE {'size': [h, w],
                                      #   'counts': str | [int]} or polygons
     ...}                             # optional extra per-instance fields
                                      #   (json values, e.g. caption word id)

:func:`~.merge.merge_shards` turns them into a COCO-format json whose
``info`` holds :data:`FORMAT_VERSION` and whose annotations carry ``id``,
``image_id``, ``area``, ``iscrowd: 0`` and ``pseudo: true`` besides the row
fields. Image and category ids are those of the source dataset.

Reading (:func:`load_pseudo_labels`, :func:`check_annotations`): a malformed
record (a missing or mistyped field) is an error naming the file, the
record's index and the field; a record with a non-finite score or box, or a
box without area, is dropped and counted by reason.
"""
from __future__ import annotations

import json
import math
from collections import Counter
from numbers import Integral, Real
from typing import Container, Iterable, Sequence

#: Version of the pseudo-label json written by this code (``info``).
FORMAT_VERSION = 1
#: Fields every row has; the merged json adds :data:`MERGED_FIELDS`.
ROW_FIELDS = ('bbox', 'category_id', 'score')
MERGED_FIELDS = ('id', 'image_id', 'area', 'iscrowd', 'pseudo')
#: Reasons a readable record is dropped (counted, never an error).
DROP_REASONS = ('nonfinite_score', 'nonfinite_bbox', 'degenerate_bbox')


class PseudoLabelFormatError(ValueError):
    """A malformed record: names the file, the record index and the field."""

    def __init__(self, path: str, index: int | None, field: str | None,
                 problem: str) -> None:
        where = path if index is None else f'{path}: record #{index}'
        what = f' field {field!r}' if field else ''
        super().__init__(f'{where}{what}: {problem}')
        self.path, self.index, self.field = path, index, field


def load_json(path: str, what: str = 'json file'):
    """``json.load`` with errors that name the file (missing, undecodable)."""
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        raise FileNotFoundError(f'{what} {path} not found') from None
    except json.JSONDecodeError as e:
        raise PseudoLabelFormatError(
            path, None, None, f'not valid json ({e.msg} at line {e.lineno} '
            f'column {e.colno})') from None
    except UnicodeDecodeError as e:
        raise PseudoLabelFormatError(path, None, None,
                                     f'not a text file ({e})') from None


def _is_number(v) -> bool:
    return isinstance(v, Real) and not isinstance(v, bool)


def _is_int(v) -> bool:
    return (isinstance(v, Integral) and not isinstance(v, bool)) or (
        isinstance(v, float) and v.is_integer())


def _check_segmentation(seg, path: str, index: int) -> None:
    if isinstance(seg, dict):
        size, counts = seg.get('size'), seg.get('counts')
        if (not isinstance(size, (list, tuple)) or len(size) != 2
                or not all(_is_int(v) and v > 0 for v in size)):
            raise PseudoLabelFormatError(path, index, 'segmentation',
                                         'RLE "size" must be [height, width]'
                                         f', got {size!r}')
        if not (isinstance(counts, str) or (
                isinstance(counts, list) and all(_is_int(c) for c in counts))):
            raise PseudoLabelFormatError(path, index, 'segmentation',
                                         'RLE "counts" must be a string or a '
                                         'list of integers')
        return
    if isinstance(seg, list) and seg and all(
            isinstance(p, list) and len(p) >= 6 and len(p) % 2 == 0
            and all(_is_number(v) for v in p) for p in seg):
        return
    raise PseudoLabelFormatError(path, index, 'segmentation',
                                 'expected an RLE dict {"size", "counts"} or '
                                 'a list of polygons (>= 3 x, y pairs)')


def check_record(ann, path: str, index: int,
                 require: Sequence[str] = ROW_FIELDS,
                 category_ids: Container[int] | None = None) -> str | None:
    """Check one annotation record.

    Args:
        ann: the record (a dict).
        path, index: the file and the record's index, for messages.
        require: fields it must have (``score`` may be left out where a
            default applies, e.g. 1.0 in the dataset wrapper).
        category_ids: the ids its ``category_id`` must be one of.

    Returns:
        None for a usable record, else the :data:`DROP_REASONS` entry it is
        dropped for.

    Raises:
        PseudoLabelFormatError: for a malformed record (naming the field).
    """
    if not isinstance(ann, dict):
        raise PseudoLabelFormatError(path, index, None, 'expected an object '
                                     f'{{"bbox", ...}}, got {ann!r:.60}')
    for key in require:
        if key not in ann:
            raise PseudoLabelFormatError(path, index, key, 'missing')
    for key in ('category_id', 'image_id'):
        if key in ann and not _is_int(ann[key]):
            raise PseudoLabelFormatError(path, index, key, 'must be an '
                                         f'integer id, got {ann[key]!r}')
    if category_ids is not None and 'category_id' in ann and \
            int(ann['category_id']) not in category_ids:
        raise PseudoLabelFormatError(path, index, 'category_id',
                                     f'{ann["category_id"]} is not in the '
                                     'file\'s "categories"')
    box = ann.get('bbox')
    if 'bbox' in ann and (not isinstance(box, (list, tuple)) or len(box) != 4
                          or not all(_is_number(v) for v in box)):
        raise PseudoLabelFormatError(path, index, 'bbox', 'must be 4 numbers'
                                     f' [x, y, w, h], got {box!r}')
    if 'score' in ann and not _is_number(ann['score']):
        raise PseudoLabelFormatError(path, index, 'score', 'must be a '
                                     f'number, got {ann["score"]!r}')
    if ann.get('segmentation') is not None:
        _check_segmentation(ann['segmentation'], path, index)
    if 'score' in ann and not math.isfinite(ann['score']):
        return 'nonfinite_score'
    if box is not None:
        if not all(math.isfinite(v) for v in box):
            return 'nonfinite_bbox'
        if box[2] <= 0 or box[3] <= 0:
            return 'degenerate_bbox'
    return None


def check_annotations(anns, path: str,
                      require: Sequence[str] = ROW_FIELDS,
                      category_ids: Container[int] | None = None
                      ) -> tuple[list[dict], Counter]:
    """The usable records of ``anns`` and a :class:`Counter` of the dropped
    ones by reason (see :func:`check_record`; malformed ones raise)."""
    if not isinstance(anns, list):
        raise PseudoLabelFormatError(path, None, 'annotations',
                                     'must be a list of records')
    kept, dropped = [], Counter()
    for i, ann in enumerate(anns):
        reason = check_record(ann, path, i, require, category_ids)
        if reason is None:
            kept.append(ann)
        else:
            dropped[reason] += 1
    return kept, dropped


def check_categories(cats, path: str) -> None:
    """``categories`` must be a list of ``{"id": int, "name": str}``."""
    if not isinstance(cats, list):
        raise PseudoLabelFormatError(path, None, 'categories',
                                     'must be a list of {"id", "name"}')
    for i, c in enumerate(cats):
        if not isinstance(c, dict) or not _is_int(c.get('id')) or \
                not isinstance(c.get('name'), str):
            raise PseudoLabelFormatError(
                path, None, f'categories[{i}]', 'must be {"id": int, '
                f'"name": str}}, got {c!r:.80}')


def read_pseudo_label_file(path: str) -> dict:
    """Read a pseudo-label json and check its top level (``info``
    format version, ``categories``, ``images``, an ``annotations`` list);
    records are checked by the caller (:func:`check_record`).

    Raises:
        PseudoLabelFormatError: undecodable file, missing or mistyped
            top-level lists, or a newer format version.
    """
    data = load_json(path, 'pseudo-label file')
    if not isinstance(data, dict):
        raise PseudoLabelFormatError(path, None, None, 'expected a COCO-style '
                                     'object with "annotations" and '
                                     '"categories"')
    version = (data.get('info') or {}).get('format_version', FORMAT_VERSION)
    if not _is_int(version) or int(version) > FORMAT_VERSION:
        raise PseudoLabelFormatError(
            path, None, 'info.format_version', f'{version!r} is newer than '
            f'this code reads ({FORMAT_VERSION})')
    for key in ('annotations', 'categories'):
        if key not in data:
            raise PseudoLabelFormatError(path, None, key, 'missing')
    check_categories(data['categories'], path)
    images = data.get('images', [])
    if not isinstance(images, list) or not all(
            isinstance(im, dict) and _is_int(im.get('id')) for im in images):
        raise PseudoLabelFormatError(path, None, 'images', 'must be a list '
                                     'of {"id": int, ...}')
    if not isinstance(data['annotations'], list):
        raise PseudoLabelFormatError(path, None, 'annotations',
                                     'must be a list of records')
    return data


def load_pseudo_labels(path: str, require: Sequence[str] = ROW_FIELDS
                       ) -> tuple[dict, Counter]:
    """Read and check a pseudo-label json (see module doc).

    Returns:
        The json with only its usable annotations, and the dropped ones
        counted by reason.

    Raises:
        PseudoLabelFormatError: see :func:`read_pseudo_label_file`, and for
            a malformed record (including a ``category_id`` not in the
            file's categories).
    """
    data = read_pseudo_label_file(path)
    kept, dropped = check_annotations(
        data['annotations'], path, tuple(require) + ('image_id',),
        {int(c['id']) for c in data['categories']})
    return dict(data, annotations=kept), dropped


def format_drops(dropped: Counter) -> str:
    """``'2 nonfinite_score, 1 degenerate_bbox'`` (or ``'none'``)."""
    return ', '.join(f'{n} {k}' for k, n in sorted(dropped.items())) or 'none'


def make_rows(boxes_xyxy: Iterable[Sequence[float]],
              category_ids: Iterable[int], scores: Iterable[float],
              masks: Iterable[dict] | None = None,
              extras: dict[str, Sequence] | None = None,
              ndigits: int = 2, score_digits: int = 5) -> list[dict]:
    """Rows (see module doc) from xyxy boxes, category ids and scores:
    ``bbox`` rounded to ``ndigits`` (``[x1, y1, x2 - x1, y2 - y1]``),
    ``score`` to ``score_digits``; ``masks`` (RLE dicts) become
    ``segmentation``; ``extras`` maps a field name to one value per row."""
    rows = []
    masks = None if masks is None else list(masks)
    for k, ((x1, y1, x2, y2), cid, s) in enumerate(
            zip(boxes_xyxy, category_ids, scores)):
        row = {'bbox': [round(x1, ndigits), round(y1, ndigits),
                        round(x2 - x1, ndigits), round(y2 - y1, ndigits)],
               'category_id': int(cid),
               'score': round(float(s), score_digits)}
        if masks is not None:
            row['segmentation'] = masks[k]
        for name, values in (extras or {}).items():
            row[name] = values[k]
        rows.append(row)
    return rows
