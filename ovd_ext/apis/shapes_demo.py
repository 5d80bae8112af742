"""``make demo``: the open-vocabulary story end to end on OVD-Shapes (CPU).

generate data -> embed the vocabulary with the committed tiny CLIP ->
base-only baseline (train, evaluate) -> VL-PLM: class-agnostic proposal
generator on base boxes -> CLIP pseudo labels for the novel classes (with
their AP@PL / #@PL against the withheld novel ground truth) -> student on base
ground truth + pseudo labels (train, evaluate) -> oracle (base + novel ground
truth) -> one results table (markdown) and PNG visualisations under the demo
work dir. Every step is skipped when its output exists, so a rerun resumes.
"""
from __future__ import annotations

import os
import os.path as osp
import time
from typing import Sequence

from mmengine.config import Config

from . import pipeline
from .results_table import results_table
from .vocabulary import ensure_vocabulary

BASELINE = 'configs/ov_baselines/mask-rcnn_r18-narrow_fpn_clip-head_ovd-shapes.py'
ORACLE = ('configs/ov_baselines/'
          'mask-rcnn_r18-narrow_fpn_clip-head_ovd-shapes-oracle.py')
STUDENT = ('configs/vl_plm/'
           'mask-rcnn_r18-narrow_fpn_clip-head_vl-plm_ovd-shapes.py')
#: demo methods in table order: name -> (row title, config)
METHODS = {
    'baseline': ('base-only baseline', BASELINE),
    'vl-plm': ('VL-PLM student', STUDENT),
    'oracle': ('oracle (base + novel GT)', ORACLE),
}
NUM_VIS = 4
VIS_SCORE_THR = 0.5
#: extra table columns: pseudo-label quality of the VL-PLM row
PL_COLUMNS = {'AP@PL': 'pl/AP@PL', '#@PL': 'pl/#@PL'}


class _Steps:
    """Numbered, timed progress lines."""

    def __init__(self, total: int) -> None:
        self.total, self.done, self.t = total, 0, time.time()

    def __call__(self, msg: str) -> None:
        self.done += 1
        print(f'\n==> {self.done}/{self.total} {msg}', flush=True)
        self.t = time.time()

    def took(self) -> None:
        print(f'({time.time() - self.t:.0f} s)', flush=True)


def ensure_shapes(data_root: str, seed: int = 0) -> None:
    """Generate the default OVD-Shapes set unless it is already there."""
    from ..datasets.shapes import generate_ovd_shapes
    if osp.isfile(osp.join(data_root, 'annotations', 'meta.json')):
        print(f'{data_root} exists, not regenerated')
        return
    generate_ovd_shapes(data_root, seed=seed)


def _sub(work_dir: str, config: str) -> str:
    return osp.join(work_dir, osp.splitext(osp.basename(config))[0])


def vl_plm_pseudo_labels(student_config: str, work_dir: str,
                         options: dict | None = None,
                         progress: bool = True) -> tuple[str, dict]:
    """VL-PLM for a student config with a ``vl_plm`` block: train its
    class-agnostic proposal generator, label the training images, measure
    AP@PL / #@PL. Returns the pseudo-label json and its quality
    (``pl/AP@PL``, ``pl/#@PL``, ...)."""
    import json

    from ..pseudo_labels import (VLPLMSettings,
                                 generate_pseudo_labels_parallel,
                                 pseudo_label_quality)
    cfg = Config.fromfile(student_config)
    plm = cfg.vl_plm
    train_set = cfg.train_dataloader.dataset
    root = train_set.data_root
    ann_file = osp.join(root, train_set.ann_file)
    img_dir = osp.join(root, train_set.data_prefix.img)
    proposer = plm.proposal_config
    sub = _sub(work_dir, proposer)
    print(f'proposal generator: {proposer}', flush=True)
    det_ckpt = pipeline.train(proposer, sub, options, validate=False)
    out = osp.join(work_dir, 'pseudo_labels', 'vl-plm_novel_train.json')
    quality_file = osp.join(work_dir, 'pseudo_labels', 'quality.json')
    if osp.isfile(quality_file) and osp.isfile(out):
        with open(quality_file) as f:
            return out, json.load(f)
    settings = VLPLMSettings(**plm.settings)
    targets = list(plm.targets)
    res = generate_pseudo_labels_parallel(
        proposer, det_ckpt, ann_file, img_dir, out, cfg.clip['name'],
        cfg.clip['checkpoint'], targets, settings,
        templates=cfg.clip.get('templates', 'imagenet80'),
        vocabulary=plm.get('vocabulary', cfg.get('vocabulary')),
        progress=progress, workers=plm.get('workers', 1))
    report = res['report']
    q = pseudo_label_quality(ann_file, out, targets)
    quality = {'pl/AP@PL': q['AP@PL'] / 100, 'pl/#@PL': q['#@PL'],
               'pl/num_pseudo_labels': report['num_pseudo_labels'],
               'pl/num_skipped_images': report['num_skipped'],
               'pl/per_class_AP50': q['per_class_AP50']}
    pipeline.write_json_atomic(quality_file, quality)
    return out, quality


def _table_rows(rows: dict[str, dict]) -> dict[str, dict]:
    """Format the pseudo-label columns (AP@PL in %, #@PL as a count)."""
    out = {}
    for name, metrics in rows.items():
        m = dict(metrics)
        if 'pl/#@PL' in m:
            m['pl/#@PL'] = f'{m["pl/#@PL"]:.2f}'
        out[name] = m
    return out


def run_demo(work_dir: str = 'work_dirs/demo',
             methods: Sequence[str] = tuple(METHODS),
             options: dict | None = None, progress: bool = True) -> str:
    """Run the demo for ``methods`` (keys of :data:`METHODS`); returns the
    results table (also written to ``work_dir/results.md``)."""
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f'unknown demo method {unknown[0]!r}; one of '
                         f'{list(METHODS)}')
    methods = [m for m in METHODS if m in methods]     # table order
    start = time.time()
    step = _Steps(3 + 2 * len(methods) + ('vl-plm' in methods))
    first = Config.fromfile(METHODS[methods[0]][1])
    data_root = first.train_dataloader.dataset.data_root

    step('OVD-Shapes data')
    ensure_shapes(data_root)
    step.took()
    step('class embeddings with the tiny CLIP')
    print(ensure_vocabulary(first))
    step.took()

    rows, checkpoints = {}, {}
    for method in methods:
        title, config = METHODS[method]
        sub = _sub(work_dir, config)
        extra: dict = {}
        opts = options
        if method == 'vl-plm':
            step('VL-PLM pseudo labels: proposal generator on base boxes, '
                 'then CLIP names its regions')
            pl_file, extra = vl_plm_pseudo_labels(config, work_dir, options,
                                                  progress)
            print(f'pseudo labels: {pl_file}; AP@PL '
                  f'{100 * extra["pl/AP@PL"]:.1f}, #@PL '
                  f'{extra["pl/#@PL"]:.2f}')
            step.took()
            opts = {**(options or {}),
                    'train_dataloader.dataset.pseudo_ann_file':
                    osp.abspath(pl_file)}
        step(f'train {title} ({config})')
        checkpoints[method] = pipeline.train(config, sub, opts, validate=False)
        step.took()
        step(f'evaluate {title}')
        metrics = pipeline.test(config, checkpoints[method], sub, opts)
        rows[title] = {**metrics, **{k: v for k, v in extra.items()
                                     if k in PL_COLUMNS.values()}}
        step.took()

    step('results table and visualisations')
    val_dir = osp.join(data_root, 'images', 'val')
    images = [osp.join(val_dir, f)
              for f in sorted(os.listdir(val_dir))[:NUM_VIS]]
    shown = 'vl-plm' if 'vl-plm' in methods else methods[0]
    vis = pipeline.visualise(METHODS[shown][1], checkpoints[shown], images,
                             work_dir, score_thr=VIS_SCORE_THR,
                             options=options)
    extra_cols = PL_COLUMNS if 'vl-plm' in methods else None
    table = results_table(_table_rows(rows), extra_cols)
    with open(osp.join(work_dir, 'results.md'), 'w') as f:
        f.write('# OVD-Shapes results (AP in %)\n\n' + table)
    print(table)
    print(f'visualisations ({METHODS[shown][0]}): {", ".join(vis)}')
    print(f'total {time.time() - start:.0f} s; table in {work_dir}/results.md')
    return table
