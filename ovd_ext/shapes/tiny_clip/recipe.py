"""The recipes of the shipped OVD-Shapes tiny CLIPs, end to end.

:func:`run_recipe` builds the model under a fixed seed, trains it on the
OVD-Shapes train pairs, writes the fp16 weights atomically, reloads them
through :func:`ovd_ext.vlm.build_clip` (exactly what users get), measures
zero-shot accuracy on the val GT crops and writes a provenance json next to
the weights. ``tools/shapes/train_tiny_clip.py`` is its CLI.
"""
from __future__ import annotations

import dataclasses
import datetime
import json
import os.path as osp
import platform
import time
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import open_clip
import torch

from ...utils.machine import cpu_name
from ...vlm.builder import build_clip
from ...vlm.training.augment import JitterConfig
from ...vlm.training.checkpoint import (atomic_json, save_fp16_weights,
                                        sha256_file)
from ...vlm.training.loop import TrainConfig, train_clip
from ...vlm.training.warm_start import copy_text_tower
from ..categories import CLASSES, NOVEL_CLASSES, SYNONYMS
from ..textures import PATTERN_WORDS
from .descriptions import DescriptionConfig
from .pairs import ANNOTATION_FILES, ShapesPairs
from .zero_shot import crop_accuracy, load_gt_crops, per_class_accuracy


@dataclass
class Recipe:
    """Everything that defines one shipped tiny CLIP.

    ``text_init``: name of another shipped tiny CLIP whose text tower and
    logit scale start this one (:mod:`ovd_ext.vlm.training.warm_start`);
    ``teacher``: name of a shipped tiny CLIP whose image embeddings this one
    distills (``train.distill_weight``). Their weights are read from the
    folder of this model's output.
    """

    train: TrainConfig
    mix: dict[str, float] = field(default_factory=lambda: {
        'crop': 0.65, 'imagelabel': 0.15, 'caption': 0.2})
    jitter: JitterConfig = field(default_factory=JitterConfig)
    descriptions: DescriptionConfig = field(default_factory=DescriptionConfig)
    text_init: str | None = None
    teacher: str | None = None


RECIPES: dict[str, Recipe] = {
    # The ViT starts from the ResNet's text tower and logit scale (LiT-style,
    # text tower at 0.1x lr) and distills the ResNet's image embeddings
    # besides the contrastive loss: from scratch it reached ~30% top-1 in the
    # ResNet's step budget (no convolutional prior, little data). Distillation
    # weight 1 / 800 steps gave 66.9%, 4 / 1,000 72.7%, 8 / 1,150 77.1%
    # (892 s on 2 cores).
    'ovd-tiny-vit': Recipe(
        TrainConfig(steps=1150, batch_size=128, lr=2e-3, text_lr_mult=0.1,
                    distill_weight=8.0, init_logit_scale=None),
        text_init='ovd-tiny-rn', teacher='ovd-tiny-rn'),
    'ovd-tiny-rn': Recipe(TrainConfig(steps=1200, batch_size=128, lr=3e-3)),
}


def data_fingerprint(root: str) -> dict[str, Any]:
    """Generator arguments (``meta.json``) and SHA-256 of the train jsons."""
    meta_path = osp.join(root, 'annotations', 'meta.json')
    meta = {}
    if osp.isfile(meta_path):
        with open(meta_path) as f:
            meta = json.load(f)
    return {'root': root, 'generator_args': meta.get('args'),
            'generator_version': meta.get('version'),
            'sha256': {f: sha256_file(osp.join(root, f))
                       for f in ANNOTATION_FILES.values()}}


def zero_shot_report(clip, root: str, split: str = 'val',
                     templates: str = 'imagenet80') -> dict:
    """Top-1 (1x, 1.5x, sum) and per-class 1x top-1 on the GT crops of an
    OVD-Shapes split, against the canonical class names."""
    images, boxes, labels = load_gt_crops(
        osp.join(root, 'annotations', f'instances_{split}.json'),
        osp.join(root, 'images'), CLASSES)
    novel = [CLASSES.index(c) for c in NOVEL_CLASSES]
    res = crop_accuracy(clip, images, boxes, labels, CLASSES, novel,
                        templates=templates)
    per_class = per_class_accuracy(clip, images, boxes, labels, CLASSES,
                                   templates=templates)
    return {'split': split, 'templates': templates,
            'class_names': 'canonical (CLASSES)', 'results': res,
            'per_class_1.0x': {c: round(a, 4)
                               for c, a in zip(CLASSES, per_class)}}


def run_recipe(model: str, data: str, out: str, work_dir: str | None = None,
               overrides: Mapping[str, Any] | None = None,
               resume: bool = False, evaluate: bool = True,
               progress: bool = True, command: str = '',
               threads: int | None = None, text_init: str | None = None,
               teacher: str | None = None) -> dict:
    """Train ``RECIPES[model]`` (with ``overrides`` of its TrainConfig),
    save ``out`` and ``<out stem>.provenance.json``; return the provenance.
    ``text_init`` / ``teacher`` override the paths of the recipe's
    text-tower and teacher checkpoints.
    """
    if model not in RECIPES:
        raise ValueError(f'no recipe for {model!r}; known: {sorted(RECIPES)}')
    recipe = RECIPES[model]
    cfg = dataclasses.replace(recipe.train, **dict(overrides or {}))
    t0 = time.perf_counter()
    pairs = ShapesPairs(data, CLASSES, SYNONYMS, PATTERN_WORDS,
                        mix=recipe.mix, jitter=recipe.jitter,
                        descriptions=recipe.descriptions, progress=progress)
    load_s = time.perf_counter() - t0
    torch.manual_seed(cfg.seed)
    np.random.seed(cfg.seed)
    clip = build_clip(model, None, frozen=False)
    folder = osp.dirname(out)
    if text_init is None and recipe.text_init:
        text_init = osp.join(folder, f'{recipe.text_init}.pt')
    if teacher is None and recipe.teacher:
        teacher = osp.join(folder, f'{recipe.teacher}.pt')
    inputs = {}
    if text_init:
        copy_text_tower(clip.model, text_init)
        inputs['text_tower_init'] = {'file': text_init,
                                     'sha256': sha256_file(text_init)}
    teacher_clip = None
    if teacher:
        if not recipe.teacher:
            raise ValueError(f'the {model} recipe distills no teacher')
        teacher_clip = build_clip(recipe.teacher, teacher)
        inputs['teacher'] = {'model': teacher_clip.name, 'file': teacher,
                             'sha256': sha256_file(teacher)}
    stats = train_clip(clip, pairs, cfg, work_dir=work_dir, resume=resume,
                       progress=progress, teacher=teacher_clip)
    save_fp16_weights(clip.model, out)
    shipped = build_clip(model, out)        # the file, as users load it
    prov: dict[str, Any] = {
        'model': model,
        'command': command,
        'seed': cfg.seed,
        'initialised_from': inputs,
        'train_config': dataclasses.asdict(cfg),
        'recipe': {'mix': recipe.mix,
                   'jitter': dataclasses.asdict(recipe.jitter),
                   'descriptions': {
                       'attribute_prob': recipe.descriptions.attribute_prob,
                       'pattern_prob': recipe.descriptions.pattern_prob,
                       'synonym_prob': recipe.descriptions.synonym_prob,
                       'template_set_sizes_and_weights': [
                           [len(t), w] for t, w in
                           recipe.descriptions.template_sets]},
                   'loss': 'symmetric InfoNCE, multi-positive targets '
                           '(UniCL): equal class (crops, image labels) or '
                           'equal image (captions) are positives'},
        'data': dict(data_fingerprint(data), pairs={
            'crops': len(pairs.crops), 'image_labels': len(pairs.imagelabels),
            'captions': len(pairs.captions), 'images': len(pairs.images),
            'skipped': pairs.skipped}, split='train only'),
        'training': {
            'seconds_total': round(load_s + stats['total_seconds'], 1),
            'seconds_data_loading': round(load_s, 1),
            'seconds_steps': round(stats['total_seconds'], 1),
            'cpu_seconds_steps_this_process': round(stats['cpu_seconds'], 1),
            'resumed_from_step': stats['resumed_from'],
            'final_loss': round(stats['final_loss'], 4),
            'first_loss': round(stats['losses'][0], 4),
            'loss_every_10_steps': [round(v, 3)
                                    for v in stats['losses'][::10]],
            'logit_scale': round(stats['logit_scale'], 2),
            'pairs_seen': cfg.steps * cfg.batch_size},
        'checkpoint': {'file': osp.basename(out),
                       'bytes': osp.getsize(out),
                       'sha256': sha256_file(out),
                       'format': 'fp16 open_clip model.state_dict()'},
        'environment': {
            'torch': torch.__version__, 'open_clip': open_clip.__version__,
            'numpy': np.__version__, 'python': platform.python_version(),
            'cpu': cpu_name(), 'torch_threads': threads or
            torch.get_num_threads(), 'device': 'cpu'},
        'date_utc': datetime.datetime.now(datetime.timezone.utc)
        .strftime('%Y-%m-%dT%H:%M:%SZ'),
    }
    if evaluate:
        prov['zero_shot_val'] = zero_shot_report(shipped, data)
    stem = out[:-3] if out.endswith('.pt') else out
    path = atomic_json(prov, stem + '.provenance.json')
    return dict(prov, provenance_file=path)
