"""Top level: render every split, write images and all annotation files.

Every image is drawn from its own generator seeded by (seed, split, index), so
an image does not depend on generation order or worker count; files are written
with fixed options and sorted keys, each atomically (temp file + rename).
"""
from __future__ import annotations

import os.path as osp
import warnings
from multiprocessing import Pool
from typing import Iterable

import numpy as np
from tqdm import tqdm

from .annotations import coco_json, encode_mask, number_annotations
from .captions import CaptionObject, make_captions
from .categories import (BASE_CLASSES, CLASSES, COVERAGE_ORDER, NOVEL_CLASSES,
                         category_id)
from .io import dump_json, save_png
from .lvis_format import (frequency_thresholds, intended_frequency,
                          lvis_train, lvis_val)
from .render import Scene, compose_scene, sample_size

SPLIT_CODES = {'train': 0, 'val': 1, 'imagelabel': 2}
IMAGE_ID_OFFSET = {'train': 0, 'val': 1_000_000, 'imagelabel': 2_000_000}
STREAM_IMAGE, STREAM_CAPTION, STREAM_LVIS = 0, 1, 2
MIN_SIDE, MAX_SIDE = 128, 192
MAX_OBJECTS = 5
EXTRA_OBJECT_PROB = 0.25      # image-label split: an unlabeled small extra
DEFAULTS = dict(num_train=2000, num_val=300, num_imagelabel=600, seed=0)


def image_rng(seed: int, split: str, index: int, stream: int = STREAM_IMAGE
              ) -> np.random.Generator:
    """The generator of one image (or of its captions: ``STREAM_CAPTION``)."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(
        [int(seed), SPLIT_CODES[split], int(index), stream])))


def render_detection_image(seed: int, split: str, index: int) -> Scene:
    """A train / val scene: 1-5 objects; the first is COVERAGE_ORDER[index %
    20], so any 5 consecutive images hold every novel class and any 20 every
    class."""
    rng = image_rng(seed, split, index)
    width, height = (int(v) for v in rng.integers(MIN_SIDE, MAX_SIDE + 1, 2))
    n = int(rng.integers(1, MAX_OBJECTS + 1))
    names = [COVERAGE_ORDER[index % len(COVERAGE_ORDER)]] + [
        CLASSES[int(rng.integers(len(CLASSES)))] for _ in range(n - 1)]
    requests = [(c, sample_size(rng, width, height), True) for c in names]
    return compose_scene(rng, width, height, requests)


def render_imagelabel_image(seed: int, index: int) -> Scene:
    """An image-label scene: one dominant (55-85% of the short side), roughly
    centred object of class CLASSES[index % 20], sometimes with one small
    unlabeled object of another class (web images are rarely clean)."""
    rng = image_rng(seed, 'imagelabel', index)
    width, height = (int(v) for v in rng.integers(MIN_SIDE, MAX_SIDE + 1, 2))
    name = CLASSES[index % len(CLASSES)]
    requests = [(name, rng.uniform(0.55, 0.85) * min(width, height), True)]
    if rng.random() < EXTRA_OBJECT_PROB:
        other = [c for c in CLASSES if c != name]
        requests.append((other[int(rng.integers(len(other)))],
                         rng.uniform(16, 30), False))
    return compose_scene(rng, width, height, requests, centered_first=True)


def _image_entry(split: str, index: int, scene: Scene) -> dict:
    height, width = scene.image.shape[:2]
    return {'id': IMAGE_ID_OFFSET[split] + index + 1,
            'file_name': f'{split}/{index + 1:06d}.png',
            'width': width, 'height': height}


def make_record(job: tuple[int, str, int, str]) -> dict:
    """Render, save and describe one image (picklable for worker pools).

    Returns ``image`` (COCO entry), ``anns`` (without ids), ``present`` (ids
    of every class drawn, labeled or not), ``captions`` (train only) and
    ``labels`` (image-label split: class ids of labeled objects).
    """
    seed, split, index, images_dir = job
    scene = (render_imagelabel_image(seed, index) if split == 'imagelabel'
             else render_detection_image(seed, split, index))
    image = _image_entry(split, index, scene)
    save_png(osp.join(images_dir, image['file_name']), scene.image)
    anns, cap_objs = [], []
    for obj in scene.objects:
        if not obj.labeled:
            continue
        rle, area, bbox = encode_mask(obj.mask)
        anns.append({'category_id': category_id(obj.name), 'segmentation': rle,
                     'area': area, 'bbox': bbox, 'iscrowd': 0,
                     'attributes': {'color': obj.color,
                                    'pattern': obj.pattern}})
        cap_objs.append(CaptionObject(obj.name, obj.color, obj.pattern,
                                      tuple(bbox)))
    if split == 'imagelabel' and not anns:
        raise RuntimeError(f'image-label image {image["file_name"]} (seed '
                           f'{seed}) lost its dominant object')
    captions = make_captions(cap_objs, image['width'], image['height'],
                             scene.background,
                             image_rng(seed, split, index, STREAM_CAPTION)
                             ) if split == 'train' else []
    return {'image': image, 'anns': anns, 'captions': captions,
            'present': sorted({category_id(o.name) for o in scene.objects}),
            'labels': sorted({a['category_id'] for a in anns})}


def render_split(split: str, num: int, seed: int, images_dir: str,
                 workers: int = 1, progress: bool = True) -> list[dict]:
    """Records of images 0..num-1 of ``split``, in index order."""
    jobs = [(seed, split, i, images_dir) for i in range(num)]
    bar = dict(total=num, desc=f'ovd-shapes {split}', disable=not progress,
               unit='img')
    if workers <= 1:
        return [make_record(j) for j in tqdm(jobs, **bar)]
    with Pool(workers) as pool:
        it: Iterable[dict] = pool.imap(make_record, jobs, chunksize=8)
        return list(tqdm(it, **bar))


def _caption_json(records: list[dict]) -> dict:
    anns = [{'image_id': r['image']['id'], 'caption': c}
            for r in records for c in r['captions']]
    anns = [dict(a, id=i + 1) for i, a in enumerate(anns)]
    return coco_json([r['image'] for r in records], anns)


def _image_label_json(records: list[dict]) -> dict:
    images = [dict(r['image'], pos_category_ids=r['labels']) for r in records]
    anns = [{'image_id': r['image']['id'], 'category_id': c}
            for r in records for c in r['labels']]
    anns = [dict(a, id=i + 1) for i, a in enumerate(anns)]
    return coco_json(images, anns)


def generate_ovd_shapes(out_dir: str = 'data/ovd_shapes',
                        num_train: int = DEFAULTS['num_train'],
                        num_val: int = DEFAULTS['num_val'],
                        num_imagelabel: int = DEFAULTS['num_imagelabel'],
                        seed: int = DEFAULTS['seed'], workers: int = 1,
                        progress: bool = True) -> dict[str, str]:
    """Generate OVD-Shapes under ``out_dir``; return the written paths.

    Layout: ``images/{train,val,imagelabel}/NNNNNN.png`` and ``annotations/``
    with ``instances_{train,val}.json`` (COCO, all 20 classes),
    ``lvis_v1_{train,val}.json`` (LVIS, long-tailed federated train),
    ``captions_train.json``, ``image_labels_train.json`` and ``meta.json``
    (classes, base/novel split, frequency groups, seed and sizes).
    """
    for name, n in (('num_train', num_train), ('num_val', num_val),
                    ('num_imagelabel', num_imagelabel)):
        if not 0 <= n < 1_000_000:
            raise ValueError(f'{name} must be in [0, 1e6), got {n}')
    images_dir = osp.join(out_dir, 'images')
    ann_dir = osp.join(out_dir, 'annotations')
    paths = {'images_dir': images_dir, 'annotations_dir': ann_dir}
    paths.update({k: osp.join(ann_dir, f) for k, f in (
        ('instances_train', 'instances_train.json'),
        ('instances_val', 'instances_val.json'),
        ('lvis_train', 'lvis_v1_train.json'), ('lvis_val', 'lvis_v1_val.json'),
        ('captions_train', 'captions_train.json'),
        ('image_labels_train', 'image_labels_train.json'),
        ('meta', 'meta.json'))})
    recs = {split: render_split(split, n, seed, images_dir, workers, progress)
            for split, n in (('train', num_train), ('val', num_val),
                             ('imagelabel', num_imagelabel))}
    coco = {}
    for split in ('train', 'val'):
        coco[split] = coco_json([r['image'] for r in recs[split]],
                                number_annotations(recs[split]))
        dump_json(paths[f'instances_{split}'], coco[split])
    lvis_rng = image_rng(seed, 'train', 0, STREAM_LVIS)
    lvis_tr = lvis_train(recs['train'], coco['train']['annotations'],
                         num_train, lvis_rng)
    dump_json(paths['lvis_train'], lvis_tr)
    dump_json(paths['lvis_val'], lvis_val(recs['val'],
                                          coco['val']['annotations'],
                                          lvis_tr['categories'], lvis_rng))
    dump_json(paths['captions_train'], _caption_json(recs['train']))
    dump_json(paths['image_labels_train'],
              _image_label_json(recs['imagelabel']))
    rare_max, common_max = frequency_thresholds(num_train)
    frequency = {c['name']: c['frequency'] for c in lvis_tr['categories']}
    long_tail_ok = frequency == intended_frequency()
    if not long_tail_ok:
        off = sorted(n for n, f in intended_frequency().items()
                     if frequency[n] != f)
        warnings.warn(f'OVD-Shapes: {num_train} train images are too few for '
                      f'the intended LVIS frequency groups (rare = novel); '
                      f'classes {off} got other groups in '
                      f'{paths["lvis_train"]} (about 200+ train images are '
                      f'needed)')
    meta = {'classes': list(CLASSES), 'base_classes': list(BASE_CLASSES),
            'novel_classes': list(NOVEL_CLASSES),
            'frequency': frequency, 'rare_is_novel': long_tail_ok,
            'frequency_thresholds': {'rare': [1, rare_max],
                                     'common': [rare_max + 1, common_max],
                                     'frequent': [common_max + 1, None]},
            'seed': seed,
            'args': {'num_train': num_train, 'num_val': num_val,
                     'num_imagelabel': num_imagelabel, 'seed': seed},
            'version': '1.0'}
    dump_json(paths['meta'], meta, indent=1)
    return paths
