"""Change a zoo detector's vocabulary without retraining, and show it.

A declaration row may give ``demo_vocabulary: {replace: {class: prompt},
remove: [class]}``: the model's classes with some replaced by prompts it
never saw in training and some removed. The texts are embedded with the
config's CLIP, swapped into the detector (:func:`.vocabulary.set_vocabulary`)
and its detections on val images that contain a replaced class are drawn
beside the ground truth (:func:`.visualize.draw_comparison`).
"""
from __future__ import annotations

import json
import os.path as osp
from typing import Sequence

from mmengine.config import Config

from .stages import Declaration
from .visualize import coco_instances, draw_comparison
from .vocabulary import embed_texts, set_vocabulary
from .zoo import ZooModel

NUM_IMAGES = 4
SCORE_THR = 0.5
SCALE = 4


def custom_classes(classes: Sequence[str], spec: dict) -> list[str]:
    """``classes`` with ``spec['replace']`` applied and ``spec['remove']``
    dropped; unknown class names are an error."""
    replace = dict(spec.get('replace') or {})
    remove = list(spec.get('remove') or [])
    unknown = [c for c in [*replace, *remove] if c not in classes]
    if unknown:
        raise ValueError(f'demo_vocabulary names unknown classes {unknown}; '
                         f'the model has {list(classes)}')
    return [replace.get(c, c) for c in classes if c not in remove]


def _test_set(cfg: Config) -> tuple[str, str]:
    ds = cfg.test_dataloader.dataset
    root = ds.get('data_root') or ''
    return (osp.join(root, ds.ann_file),
            osp.join(root, (ds.get('data_prefix') or {}).get('img', '')))


def run_vocabulary_demo(decls: Sequence[Declaration],
                        zoo: dict[str, ZooModel], work_dir: str,
                        num_images: int = NUM_IMAGES,
                        score_thr: float = SCORE_THR,
                        scale: int = SCALE) -> list[str]:
    """PNGs for the first headline row that declares a demo vocabulary."""
    from mmdet.apis import inference_detector, init_detector
    found = [(d, r) for d in decls for r in d.rows
             if r.headline and r.demo_vocabulary]
    if not found:
        print('no headline row declares a demo_vocabulary; skipped')
        return []
    decl, row = found[0]
    model = zoo[row.model]
    cfg = Config.fromfile(model.config)
    classes = list(cfg.test_dataloader.dataset.metainfo['classes'])
    texts = custom_classes(classes, row.demo_vocabulary)
    detector = init_detector(cfg, model.weights, device='cpu')
    embeddings, names = embed_texts(cfg, ','.join(texts))
    set_vocabulary(detector, embeddings, names)
    ann_file, img_dir = _test_set(cfg)
    with open(ann_file) as f:
        coco = json.load(f)
    replaced = set((row.demo_vocabulary.get('replace') or {}))
    focus = {c['id'] for c in coco['categories'] if c['name'] in replaced}
    with_focus = {a['image_id'] for a in coco['annotations']
                  if a['category_id'] in focus}
    images = [im for im in sorted(coco['images'], key=lambda im: im['id'])
              if im['id'] in with_focus][:num_images]
    changes = ', '.join([f'{a} -> "{b}"' for a, b in
                         (row.demo_vocabulary.get('replace') or {}).items()]
                        + [f'no {c}' for c in
                           row.demo_vocabulary.get('remove') or []])
    print(f'{row.title} with a new vocabulary ({len(names)} classes: '
          f'{changes})')
    out = []
    for im in images:
        path = osp.join(img_dir, im['file_name'])
        pred = inference_detector(detector, path).pred_instances
        gt = coco_instances(coco, im['id'], classes, im['height'],
                            im['width'])
        png = osp.join(work_dir, 'vis', f'{row.model}_{im["id"]}.png')
        out.append(draw_comparison(path, gt, classes, pred.cpu(), names, png,
                                   scale=scale, score_thr=score_thr,
                                   pred_title=f'{row.title}: {changes}'))
    return out
