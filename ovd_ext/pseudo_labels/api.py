"""One call from a dataset json to a VL-PLM pseudo-label json.

``generate_pseudo_labels`` builds the proposal generator, CLIP and the label
space, runs one shard (resumable) and, for an unsharded run, merges it into the
final json. ``tools/gen_pseudo_labels.py`` is its command line.
"""
from __future__ import annotations

import json
import os.path as osp
from typing import Sequence

import torch

from ..vlm import build_clip
from ..vlm.class_names import from_json
from .generator import (VLPLM, VLPLMSettings, fuse_and_select,
                        target_category_ids)
from .label_space import build_label_space, label_space_embeddings
from .proposals import load_proposal_generator
from .runner import (ShardLog, detections_to_records, merge_shards,
                     parse_shard, run_shard, shard_images, shard_path)
from .teacher import Detections, load_teacher_labels


def resolve_targets(coco: dict, targets: str | Sequence[str]) -> list[str]:
    """Target class names: ``'all'``, a comma-separated string, a list, or
    ``'novel'``/``'base'`` read from the json's ``frequency`` (LVIS rare =
    novel) -- COCO jsons have no split, so pass the names there."""
    names = [c['name'] for c in sorted(coco['categories'],
                                       key=lambda c: c['id'])]
    if isinstance(targets, str):
        if targets == 'all':
            return names
        if targets in ('novel', 'rare'):
            rare = [c['name'] for c in sorted(coco['categories'],
                                              key=lambda c: c['id'])
                    if c.get('frequency') == 'r']
            if not rare:
                raise ValueError('targets="novel" needs LVIS categories with '
                                 '"frequency"; pass the class names instead')
            return rare
        targets = [t.strip() for t in targets.split(',') if t.strip()]
    return list(targets)


def run_header(settings: VLPLMSettings, **inputs) -> dict:
    """What a shard log must agree on to be resumed or merged."""
    return {'settings': settings.to_dict(), 'inputs': inputs}


def generate_pseudo_labels(
        det_config: str, det_checkpoint: str | None, ann_file: str,
        img_dir: str, out: str, clip_model: str, clip_checkpoint: str | None,
        targets: str | Sequence[str] = 'all',
        settings: VLPLMSettings | None = None,
        templates: str = 'imagenet80', vocabulary: str | None = None,
        teacher: str | None = None, shard: str = '0/1',
        max_images: int | None = None, device: str = 'cpu', seed: int = 0,
        teacher_only: bool = False, progress: bool = True,
        clip_precision: str = 'fp32') -> dict:
    """Run VL-PLM over the images of ``ann_file`` (one shard of them).

    Args:
        det_config, det_checkpoint: class-agnostic proposal generator
            (unused with ``teacher_only``).
        ann_file: COCO-format json of the images (its categories define the
            output category ids; its annotations are not used).
        img_dir: folder the json's ``file_name`` entries are relative to.
        out: final pseudo-label json; shards live in ``<out stem>.shards/``.
        clip_model, clip_checkpoint: open_clip name and local weights.
        targets: target classes (see :func:`resolve_targets`).
        settings: :class:`VLPLMSettings` (paper defaults).
        templates, vocabulary: text prompts, or a saved vocabulary .npy.
        teacher: SSOD teacher pseudo labels (COCO results json), merged
            before thresholding and NMS (supplement B.1).
        teacher_only: pseudo labels from the teacher alone (threshold and
            NMS, no detector or CLIP): the "Supervised + PLs" / "SSL PLs
            only" baseline of Table 3 / Table 9.
        shard: ``'i/n'``; with ``n == 1`` the final json is written too.
        max_images: only the first images (by id) of the json.
        seed: torch seed (the run is deterministic for fixed inputs).
        clip_precision: CLIP weights precision (``'fp32'``; ``'bf16'`` is
            several times faster on CPUs with AMX / AVX512-BF16 and on
            GPUs, with slightly different probabilities).

    Returns:
        ``{'shard', 'counts', 'shard_file', 'report'}`` (``report`` is the
        merge report for an unsharded run, else None).
    """
    settings = settings or VLPLMSettings()
    if teacher_only and teacher is None:
        raise ValueError('teacher_only needs a teacher pseudo-label file')
    index, count = parse_shard(shard)
    with open(ann_file) as f:
        coco = json.load(f)
    target_names = resolve_targets(coco, targets)
    space = build_label_space(from_json(ann_file), target_names,
                              settings.label_space, settings.bg_text)
    cat_ids = target_category_ids(space.targets, coco['categories'])
    header = run_header(
        settings, det_config=det_config, det_checkpoint=det_checkpoint,
        ann_file=osp.abspath(ann_file), clip_model=clip_model,
        clip_checkpoint=clip_checkpoint, templates=templates,
        vocabulary=vocabulary, label_space_names=space.names,
        num_targets=space.num_targets, teacher=teacher,
        max_images=max_images, seed=seed, teacher_only=teacher_only,
        clip_precision=clip_precision)
    log = ShardLog(shard_path(out, index, count), header)
    images = shard_images(coco['images'], index, count, max_images)
    counts = {'done_before': len(images), 'labeled': 0, 'skipped': 0}
    if any(int(im['id']) not in log.records for im in images):
        counts = _label_shard(det_config, det_checkpoint, clip_model,
                              clip_checkpoint, space, cat_ids, settings,
                              templates, vocabulary, teacher, images,
                              img_dir, log, device, seed, teacher_only,
                              progress, clip_precision)
    report = (merge_shards(out, count, coco, max_images) if count == 1
              else None)
    return {'shard': f'{index}/{count}', 'counts': counts,
            'shard_file': log.path, 'report': report}


def _label_shard(det_config, det_checkpoint, clip_model, clip_checkpoint,
                 space, cat_ids, settings, templates, vocabulary, teacher,
                 images, img_dir, log, device, seed, teacher_only,
                 progress, clip_precision='fp32') -> dict:
    torch.manual_seed(seed)
    teacher_dets = {}
    if teacher is not None:
        teacher_dets, _ = load_teacher_labels(
            teacher, {c: i for i, c in enumerate(cat_ids)})
    if teacher_only:
        def label(info: dict, image) -> list[dict]:
            dets = fuse_and_select(Detections.empty(),
                                   teacher_dets.get(int(info['id'])),
                                   settings.tau, settings.nms_iou,
                                   settings.teacher_tau)
            return detections_to_records(dets, cat_ids)
        return run_shard(images, img_dir, log, label, progress)

    detector = load_proposal_generator(det_config, det_checkpoint, device)
    clip = build_clip(clip_model, clip_checkpoint, device=device,
                      precision=clip_precision)
    text = label_space_embeddings(clip, space, templates, vocabulary)
    gen = VLPLM(detector, clip, text, space.num_targets, settings)

    def label(info: dict, image) -> list[dict]:
        res = gen(image, teacher_dets.get(int(info['id'])))
        return detections_to_records(res.labels, cat_ids)
    return run_shard(images, img_dir, log, label, progress)


def _shard_worker(kwargs: dict) -> dict:
    torch.set_num_threads(kwargs.pop('threads'))
    return generate_pseudo_labels(**kwargs)


def generate_pseudo_labels_parallel(*args, workers: int = 2,
                                    threads_per_worker: int = 1,
                                    **kwargs) -> dict:
    """:func:`generate_pseudo_labels` over ``workers`` shards in parallel
    processes (``threads_per_worker`` torch threads each), then the merge.

    Same arguments as :func:`generate_pseudo_labels` except ``shard``. The
    shards are the ones ``--shard i/n`` would make, so an interrupted
    parallel run resumes (in parallel or shard by shard) and the json equals
    a sequential run's. On CPU, one single-threaded process per core keeps
    the cores busier than one process with many threads: detector and crop
    batches are small. Only worker 0 shows a progress bar.
    """
    import inspect
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context
    if workers < 1:
        raise ValueError(f'workers must be >= 1, got {workers}')
    if 'shard' in kwargs:
        raise ValueError('generate_pseudo_labels_parallel makes the shards')
    params = list(inspect.signature(generate_pseudo_labels).parameters)
    base = dict(zip(params, args), **kwargs)
    progress = base.pop('progress', True)
    jobs = [dict(base, shard=f'{i}/{workers}', progress=progress and i == 0,
                 threads=threads_per_worker) for i in range(workers)]
    with ProcessPoolExecutor(workers, mp_context=get_context('spawn')) as ex:
        results = list(ex.map(_shard_worker, jobs))
    with open(base['ann_file']) as f:
        source = json.load(f)
    report = merge_shards(base['out'], workers, source,
                          base.get('max_images'))
    counts = {k: sum(r['counts'][k] for r in results)
              for k in results[0]['counts']}
    return {'shard': f'0-{workers - 1}/{workers}', 'counts': counts,
            'shard_file': [r['shard_file'] for r in results],
            'report': report}
