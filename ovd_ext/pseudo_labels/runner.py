"""Run any registered pseudo labeler over the images of a COCO json:
sharded, resumable, atomic.

    run_labeler(dict(type='VLPLMLabeler', ...), ann_file, img_dir, out,
                workers=2)

builds the labeler (checking its settings), labels every image of each shard
(:mod:`.shards`: one append-only log per shard, so a killed run resumes where
it stopped), and merges the shards into the final json and its report
(:func:`~.merge.merge_shards`, written atomically). Shard files are created
only once the labeler has loaded its models, so a run that fails at start
leaves no shard behind.

Unreadable images (missing, corrupt, truncated, or of another size than the
json says; :func:`ovd_ext.utils.read_image`) and images the labeler refuses
(:class:`~.labeler.SkipImage`) are skipped, recorded with the reason, counted
and listed in the report; items a labeler drops within an image (it returns
``(rows, {reason: count})``) are summed in the report's
``dropped_by_reason``.
"""
from __future__ import annotations

import os
import os.path as osp
from typing import Callable, Iterable

import numpy as np
from tqdm import tqdm

from ..utils.images import ImageReadError, read_image
from .labeler import SkipImage, build_labeler
from .merge import merge_shards
from .record import load_json
from .shards import ShardLog, parse_shard, shard_images, shard_path


def run_shard(images: Iterable[dict], img_dir: str, log: ShardLog,
              label_fn: Callable[[dict, np.ndarray], list[dict]],
              progress: bool = True) -> dict:
    """Label every image of the shard not yet in ``log``.

    Args:
        images: COCO image records of this shard.
        img_dir: folder the records' ``file_name`` is relative to.
        label_fn: ``(image record, BGR image) -> rows`` (a labeler).

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
            log.append({'image_id': int(im['id']), 'skipped': str(e),
                        'reason': e.reason})
            counts['skipped'] += 1
            continue
        try:
            out = label_fn(im, img)
        except SkipImage as e:
            log.append({'image_id': int(im['id']), 'skipped': str(e),
                        'reason': e.reason})
            counts['skipped'] += 1
            continue
        rows, dropped = out if isinstance(out, tuple) else (out, None)
        rec = {'image_id': int(im['id']), 'annotations': rows}
        if dropped:
            rec['dropped'] = {k: int(v) for k, v in dropped.items() if v}
        log.append(rec)
        counts['labeled'] += 1
    return counts


def _source(ann_file: str) -> dict:
    coco = load_json(ann_file, 'annotation file')
    if not isinstance(coco, dict) or not isinstance(coco.get('images'), list):
        raise ValueError(f'{ann_file}: expected a COCO json with "images"')
    return coco


def run_header(labeler_header: dict, ann_file: str,
               max_images: int | None) -> dict:
    """What a shard log must agree on to be resumed or merged."""
    return {'labeler': labeler_header,
            'inputs': {'ann_file': osp.abspath(ann_file),
                       'max_images': max_images}}


def _run_one_shard(labeler_cfg: dict, ann_file: str, img_dir: str, out: str,
                   index: int, count: int, max_images: int | None,
                   progress: bool, resume: bool) -> dict:
    coco = _source(ann_file)
    labeler = build_labeler(labeler_cfg, ann_file)
    header = run_header(labeler.header(), ann_file, max_images)
    path = shard_path(out, index, count)
    if not resume and osp.isfile(path):
        os.remove(path)
    log = ShardLog(path, header, create=False)
    images = shard_images(coco['images'], index, count, max_images)
    counts = {'done_before': len(images), 'labeled': 0, 'skipped': 0}
    if any(int(im['id']) not in log.records for im in images):
        labeler.load()
        log.create()
        counts = run_shard(images, img_dir, log, labeler, progress)
    return {'shard': f'{index}/{count}', 'counts': counts,
            'shard_file': log.path}


def _shard_worker(job: dict) -> dict:
    import torch
    torch.set_num_threads(job.pop('threads'))
    return _run_one_shard(**job)


def run_labeler(labeler_cfg: dict, ann_file: str, img_dir: str, out: str,
                workers: int = 1, shard: str | None = None,
                max_images: int | None = None, progress: bool = True,
                resume: bool = True, threads_per_worker: int = 1) -> dict:
    """Pseudo labels of the images of ``ann_file`` with the labeler
    ``labeler_cfg`` (a registered ``type`` and its settings).

    Args:
        ann_file: COCO-format json of the images (its categories define the
            output category ids; its annotations are not used).
        img_dir: folder the json's ``file_name`` entries are relative to.
        out: final pseudo-label json; shards live in ``<out stem>.shards/``,
            the report in ``<out stem>.report.json``.
        workers: run this many shards in parallel processes
            (``threads_per_worker`` torch threads each), then merge; the json
            equals a sequential run's up to thread-count rounding. On CPU
            one single-threaded process per core beats one process with many
            threads. Only worker 0 shows a progress bar.
        shard: ``'i/n'``: label only that shard (no merge unless ``n == 1``);
            not with ``workers > 1``.
        max_images: only the first images (by id) of the json.
        resume: keep the images a previous run of the shard(s) finished
            (False: start the shard(s) over).

    Returns:
        ``{'shard', 'counts', 'shard_file', 'report'}``; ``report`` is the
        merge report (:func:`~.merge.merge_shards`), None for one shard of
        several.
    """
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f'workers must be an integer >= 1, got {workers!r}')
    if max_images is not None and (not isinstance(max_images, int)
                                   or max_images < 1):
        raise ValueError(f'max_images must be an integer >= 1, got '
                         f'{max_images!r}')
    if workers > 1 and shard not in (None, '0/1'):
        raise ValueError('workers > 1 makes its own shards; leave shard out')
    if workers == 1:
        index, count = parse_shard(shard or '0/1')
        res = _run_one_shard(labeler_cfg, ann_file, img_dir, out, index,
                             count, max_images, progress, resume)
        res['report'] = (merge_shards(out, count, _source(ann_file),
                                      max_images) if count == 1 else None)
        return res
    # fail fast (bad settings, unknown type) before starting processes
    build_labeler(labeler_cfg, ann_file)
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context
    jobs = [dict(labeler_cfg=labeler_cfg, ann_file=ann_file, img_dir=img_dir,
                 out=out, index=i, count=workers, max_images=max_images,
                 progress=progress and i == 0, resume=resume,
                 threads=threads_per_worker) for i in range(workers)]
    with ProcessPoolExecutor(workers, mp_context=get_context('spawn')) as ex:
        results = list(ex.map(_shard_worker, jobs))
    report = merge_shards(out, workers, _source(ann_file), max_images)
    counts = {k: sum(r['counts'][k] for r in results)
              for k in results[0]['counts']}
    return {'shard': f'0-{workers - 1}/{workers}', 'counts': counts,
            'shard_file': [r['shard_file'] for r in results],
            'report': report}
