"""Merge the shard logs of a pseudo-label run into the final json.

:func:`merge_shards` checks that every shard is complete and was written with
the same settings, then writes the COCO-format pseudo-label json of
:mod:`.record` and a report (counts, skipped images by reason, dropped rows
by reason), both atomically. It knows nothing of the labeler that wrote the
shards: rows are copied with whatever optional fields they carry.
"""
from __future__ import annotations

import os.path as osp
from collections import Counter

from mmengine.logging import print_log

from ..utils.io import write_json_atomic
from .record import FORMAT_VERSION, check_record, format_drops
from .shards import (ShardLog, header_diff, read_header, report_path,
                     shard_images, shard_path)


def _area(row: dict) -> float:
    """Mask area for rows with an RLE ``segmentation``, else box area."""
    seg = row.get('segmentation')
    if isinstance(seg, dict):
        from pycocotools import mask as mask_utils
        rle = seg
        if isinstance(seg['counts'], list):   # uncompressed RLE
            rle = mask_utils.frPyObjects(seg, *seg['size'])
        return float(mask_utils.area(rle))
    w, h = row['bbox'][2], row['bbox'][3]
    return round(w * h, 2)


def _read_logs(out: str, count: int, source: dict,
               max_images: int | None) -> tuple[dict | None, dict]:
    """Header and ``{image_id: record}`` of all shards (errors if they
    disagree or any is incomplete)."""
    header, headers = None, {}
    for i in range(count):
        path = shard_path(out, i, count)
        if osp.isfile(path) and osp.getsize(path):
            headers[i] = read_header(path)
            if header is not None and header_diff(header, headers[i]):
                raise ValueError(f'{path} has other settings than the other '
                                 'shards: ' + '; '.join(
                                     header_diff(header, headers[i])[:5]))
            header = headers[i]
    if max_images is None and header is not None:
        max_images = (header.get('inputs') or {}).get('max_images')
    records, incomplete = {}, []
    for i in range(count):
        want = shard_images(source['images'], i, count, max_images)
        if i not in headers:
            incomplete.append(f'{i}/{count}: not started ({len(want)} images)')
            continue
        log = ShardLog(shard_path(out, i, count), headers[i], create=False)
        missing = [im for im in want if int(im['id']) not in log.records]
        if missing:
            incomplete.append(f'{i}/{count}: {len(missing)} of {len(want)} '
                              'images left')
        records.update(log.records)
    if incomplete:
        raise RuntimeError('cannot merge, shards incomplete (run them with '
                           '--shard i/n): ' + '; '.join(incomplete))
    return header, records


def merge_shards(out: str, count: int, source: dict,
                 max_images: int | None = None) -> dict:
    """Combine the ``count`` shard logs of ``out`` into the final json
    ``out`` and its report (both atomic); returns the report.

    ``max_images`` defaults to the one recorded in the shards' header. The
    json has ``info`` (``format_version``, the run's ``settings``), the
    source dataset's ``categories`` and ``images`` (those labeled; skipped
    ones are only in the report) and ``annotations`` (:mod:`.record`) sorted
    by image id, then score. Rows with a non-finite score or box, or a box
    without area, are dropped and counted by reason.
    """
    header, records = _read_logs(out, count, source, max_images)
    by_id = {int(im['id']): im for im in source['images']}
    images, anns, skipped = [], [], []
    dropped: Counter = Counter()
    for img_id in sorted(records):
        rec = records[img_id]
        if 'skipped' in rec:
            skipped.append({'image_id': img_id, 'file_name':
                            by_id[img_id].get('file_name'),
                            'reason': rec['skipped'],
                            'kind': rec.get('reason', 'corrupt')})
            continue
        images.append(by_id[img_id])
        dropped.update(rec.get('dropped') or {})
        where = (f'{osp.dirname(shard_path(out, 0, count))} '
                 f'(image {img_id})')
        rows = []
        for k, row in enumerate(rec['annotations']):
            why = check_record(row, where, k)
            if why is None:
                rows.append(row)
            else:
                dropped[why] += 1
        for a in sorted(rows, key=lambda a: -a['score']):
            extra = {k: v for k, v in a.items()
                     if k not in ('bbox', 'category_id', 'score')}
            anns.append({'id': len(anns) + 1, 'image_id': img_id,
                         'category_id': a['category_id'], 'bbox': a['bbox'],
                         'area': _area(a), 'score': a['score'],
                         'iscrowd': 0, 'pseudo': True, **extra})
    categories = ((header or {}).get('labeler') or {}).get('categories') \
        or source['categories']
    result = {'info': {'description': 'pseudo labels (ovd_ext)',
                       'format_version': FORMAT_VERSION, 'settings': header},
              'images': images, 'categories': categories,
              'annotations': anns}
    per_cat: dict[int, int] = {}
    for a in anns:
        per_cat[a['category_id']] = per_cat.get(a['category_id'], 0) + 1
    names = {c['id']: c['name'] for c in categories}
    report = {'output': out, 'num_images': len(records),
              'num_labeled_images': len(images),
              'num_skipped': len(skipped), 'skipped': skipped,
              'skipped_by_reason': dict(Counter(s['kind'] for s in skipped)),
              'num_pseudo_labels': len(anns),
              'pseudo_labels_per_image': len(anns) / max(len(images), 1),
              'dropped_by_reason': dict(dropped),
              'per_category': {names.get(k, str(k)): v
                               for k, v in sorted(per_cat.items())},
              'settings': header}
    write_json_atomic(out, result)
    write_json_atomic(report_path(out), report)
    if dropped:
        print_log(f'{out}: dropped {sum(dropped.values())} pseudo labels '
                  f'({format_drops(dropped)})', logger='current')
    return report
