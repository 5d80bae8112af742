"""Sharded, resumable pseudo-label runs and the COCO-format output.

A run over a dataset json is split into ``n`` shards (image ids sorted,
shard ``i`` takes every n-th from the i-th). Each shard appends one json line
per finished image to ``<out>.shards/shard-III-of-NNN.jsonl`` and flushes it;
its first line is a header with the settings. A restarted shard skips the
images it already has (a half-written last line is dropped) and refuses to
continue under other settings. :func:`merge_shards` checks every shard is
complete and writes the final COCO json (DESIGN.md §3) and a report atomically.

Unreadable images (missing, corrupt, or of another size than the json says)
are skipped, recorded with the reason, counted and listed in the report.
"""
from __future__ import annotations

import json
import os
import os.path as osp
from typing import Callable, Iterable, Sequence

import numpy as np
from tqdm import tqdm

from ..apis.pipeline import write_json_atomic
from .teacher import Detections

SHARD_SUFFIX = '.shards'


class ImageReadError(RuntimeError):
    """An image that cannot be used (missing, corrupt, wrong size)."""


def parse_shard(spec: str) -> tuple[int, int]:
    """``'i/n'`` -> ``(i, n)`` with ``0 <= i < n``."""
    try:
        i, n = (int(v) for v in str(spec).split('/'))
    except ValueError:
        raise ValueError(f'--shard must look like i/n (e.g. 0/4), got '
                         f'{spec!r}') from None
    if not 0 <= i < n:
        raise ValueError(f'shard index must be in [0, {n}), got {spec!r}')
    return i, n


def shard_images(images: Sequence[dict], index: int, count: int,
                 max_images: int | None = None) -> list[dict]:
    """Image records of shard ``index`` of ``count`` (sorted by id; the
    first ``max_images`` of the dataset only, when given)."""
    ordered = sorted(images, key=lambda im: int(im['id']))
    if max_images is not None:
        ordered = ordered[:max_images]
    return ordered[index::count]


def shard_path(out: str, index: int, count: int) -> str:
    root, _ = osp.splitext(out)
    return osp.join(root + SHARD_SUFFIX,
                    f'shard-{index:03d}-of-{count:03d}.jsonl')


def report_path(out: str) -> str:
    """Sidecar report of the final json: ``X.json`` -> ``X.report.json``."""
    root, _ = osp.splitext(out)
    return root + '.report.json'


def read_image(path: str, width: int | None = None,
               height: int | None = None) -> np.ndarray:
    """BGR HxWx3 uint8 image; raises :class:`ImageReadError` saying why."""
    import mmcv
    if not osp.isfile(path):
        raise ImageReadError(f'missing file {path}')
    try:
        with open(path, 'rb') as f:
            img = mmcv.imfrombytes(f.read(), flag='color', channel_order='bgr')
    except Exception as e:  # decoders raise many types on corrupt data
        raise ImageReadError(f'cannot decode {path}: {e}') from e
    if img is None or img.ndim != 3 or img.size == 0:
        raise ImageReadError(f'cannot decode {path}')
    if width is not None and height is not None and (
            img.shape[1] != int(width) or img.shape[0] != int(height)):
        raise ImageReadError(
            f'{path} is {img.shape[1]}x{img.shape[0]} but the json says '
            f'{width}x{height}')
    return img


def _diff(old: dict, new: dict, prefix: str = '') -> list[str]:
    out = []
    for k in sorted(set(old) | set(new)):
        a, b = old.get(k), new.get(k)
        if isinstance(a, dict) and isinstance(b, dict):
            out += _diff(a, b, f'{prefix}{k}.')
        elif a != b:
            out.append(f'{prefix}{k}: {a!r} -> {b!r}')
    return out


class ShardLog:
    """Append-only jsonl of one shard: a header line, then one record per
    image (``{'image_id', 'annotations'}`` or ``{'image_id', 'skipped'}``)."""

    def __init__(self, path: str, header: dict) -> None:
        self.path = path
        self.header = json.loads(json.dumps(header))   # json-normalised
        self.records: dict[int, dict] = {}
        os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
        if osp.isfile(path):
            self._load()
        if not osp.isfile(path) or osp.getsize(path) == 0:
            with open(path, 'w') as f:
                f.write(json.dumps({'header': self.header}) + '\n')

    def _load(self) -> None:
        good = 0
        with open(self.path, 'rb') as f:
            lines = f.read().split(b'\n')
        for i, line in enumerate(lines):
            if not line.strip():
                good += len(line) + 1
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                if any(x.strip() for x in lines[i + 1:]):
                    raise ValueError(
                        f'{self.path}: corrupt line {i + 1}') from None
                break           # a half-written last line: drop it
            if i == 0:
                diff = _diff(rec.get('header', {}), self.header)
                if diff:
                    raise ValueError(
                        f'{self.path} was written with other settings ('
                        + '; '.join(diff[:5]) + '); use the same settings '
                        'or delete the shard file to start over')
            else:
                self.records[int(rec['image_id'])] = rec
            good += len(line) + 1
        good = min(good, osp.getsize(self.path))
        with open(self.path, 'r+b') as f:   # cut a partial last line
            f.truncate(good)
            if good:
                f.seek(good - 1)
                if f.read(1) != b'\n':
                    f.write(b'\n')

    def append(self, record: dict) -> None:
        with open(self.path, 'a') as f:
            f.write(json.dumps(record) + '\n')
            f.flush()
        self.records[int(record['image_id'])] = record


def detections_to_records(dets: Detections, cat_ids: Sequence[int],
                          ndigits: int = 2) -> list[dict]:
    """Pseudo labels as ``{bbox [x, y, w, h], category_id, score}`` rows
    (``cat_ids[label]`` is the source dataset id of a target index)."""
    rows = []
    for (x1, y1, x2, y2), s, lab in zip(dets.boxes.tolist(),
                                        dets.scores.tolist(),
                                        dets.labels.tolist()):
        rows.append({'bbox': [round(x1, ndigits), round(y1, ndigits),
                              round(x2 - x1, ndigits),
                              round(y2 - y1, ndigits)],
                     'category_id': int(cat_ids[lab]),
                     'score': round(float(s), 5)})
    return rows


def run_shard(images: Iterable[dict], img_dir: str, log: ShardLog,
              label_fn: Callable[[dict, np.ndarray], list[dict]],
              progress: bool = True) -> dict:
    """Label every image of the shard not yet in ``log``.

    Args:
        images: COCO image records of this shard.
        img_dir: folder the records' ``file_name`` is relative to.
        label_fn: ``(image record, BGR image) -> annotation rows``.

    Returns:
        Counts ``{'done_before', 'labeled', 'skipped'}`` of this call.
    """
    images = list(images)
    todo = [im for im in images if int(im['id']) not in log.records]
    counts = {'done_before': len(images) - len(todo), 'labeled': 0,
              'skipped': 0}
    for im in tqdm(todo, desc='pseudo labels', unit='img',
                   disable=not progress):
        path = osp.join(img_dir, im['file_name'])
        try:
            img = read_image(path, im.get('width'), im.get('height'))
        except ImageReadError as e:
            log.append({'image_id': int(im['id']), 'skipped': str(e)})
            counts['skipped'] += 1
            continue
        log.append({'image_id': int(im['id']),
                    'annotations': label_fn(im, img)})
        counts['labeled'] += 1
    return counts


def merge_shards(out: str, count: int, source: dict,
                 max_images: int | None = None) -> dict:
    """Combine the ``count`` shard logs of ``out`` into the final COCO json
    ``out`` and its report (both atomic); returns the report. ``max_images``
    defaults to the one recorded in the shards' header (``inputs``).

    The json has the source dataset's ``categories`` and ``images`` (those
    labeled; skipped ones are only in the report) and ``annotations`` with
    ``id``, ``image_id``, ``bbox``, ``area``, ``category_id``, ``score``,
    ``iscrowd: 0``, ``pseudo: true``, sorted by image id, then score.
    """
    header, records = None, {}
    headers = {}
    for i in range(count):
        path = shard_path(out, i, count)
        if osp.isfile(path) and osp.getsize(path):
            with open(path) as f:
                headers[i] = json.loads(f.readline())['header']
            if header is not None and _diff(header, headers[i]):
                raise ValueError(f'{path} has other settings than the other '
                                 'shards: '
                                 + '; '.join(_diff(header, headers[i])[:5]))
            header = headers[i]
    if max_images is None and header is not None:
        max_images = (header.get('inputs') or {}).get('max_images')
    incomplete = []
    for i in range(count):
        path = shard_path(out, i, count)
        want = shard_images(source['images'], i, count, max_images)
        if i not in headers:
            incomplete.append(f'{i}/{count}: not started ({len(want)} images)')
            continue
        log = ShardLog(path, headers[i])
        missing = [im for im in want if int(im['id']) not in log.records]
        if missing:
            incomplete.append(f'{i}/{count}: {len(missing)} of {len(want)} '
                              'images left')
        records.update(log.records)
    if incomplete:
        raise RuntimeError('cannot merge, shards incomplete (run them with '
                           '--shard i/n): ' + '; '.join(incomplete))
    by_id = {int(im['id']): im for im in source['images']}
    images, anns, skipped = [], [], []
    for img_id in sorted(records):
        rec = records[img_id]
        if 'skipped' in rec:
            skipped.append({'image_id': img_id, 'file_name':
                            by_id[img_id].get('file_name'),
                            'reason': rec['skipped']})
            continue
        images.append(by_id[img_id])
        rows = sorted(rec['annotations'], key=lambda a: -a['score'])
        for a in rows:
            w, h = a['bbox'][2], a['bbox'][3]
            anns.append({'id': len(anns) + 1, 'image_id': img_id,
                         'category_id': a['category_id'], 'bbox': a['bbox'],
                         'area': round(w * h, 2), 'score': a['score'],
                         'iscrowd': 0, 'pseudo': True})
    result = {'info': {'description': 'VL-PLM pseudo labels',
                       'settings': header},
              'images': images, 'categories': source['categories'],
              'annotations': anns}
    per_cat: dict[int, int] = {}
    for a in anns:
        per_cat[a['category_id']] = per_cat.get(a['category_id'], 0) + 1
    names = {c['id']: c['name'] for c in source['categories']}
    report = {'output': out, 'num_images': len(records),
              'num_labeled_images': len(images),
              'num_skipped': len(skipped), 'skipped': skipped,
              'num_pseudo_labels': len(anns),
              'pseudo_labels_per_image': len(anns) / max(len(images), 1),
              'per_category': {names.get(k, str(k)): v
                               for k, v in sorted(per_cat.items())},
              'settings': header}
    write_json_atomic(out, result)
    write_json_atomic(report_path(out), report)
    return report
