"""``make demo``: the open-vocabulary story end to end on OVD-Shapes (CPU).

generate data -> embed the vocabulary with the committed tiny CLIP -> train
the base-only baseline (and optionally the oracle) -> evaluate -> results
table (markdown) and PNG visualisations under the demo work dir. Every step
is skipped when its output exists, so a rerun resumes.
"""
from __future__ import annotations

import os
import os.path as osp
import time

from mmengine.config import Config

from . import pipeline
from .results_table import results_table
from .vocabulary import ensure_vocabulary

CONFIG_DIR = 'configs/ov_baselines'
MODELS = {
    'base-only baseline': 'mask-rcnn_r18-narrow_fpn_clip-head_ovd-shapes.py',
    'oracle (base + novel GT)':
    'mask-rcnn_r18-narrow_fpn_clip-head_ovd-shapes-oracle.py',
}
NUM_VIS = 4
VIS_SCORE_THR = 0.5


def _step(msg: str) -> float:
    print(f'\n==> {msg}', flush=True)
    return time.time()


def ensure_shapes(data_root: str, seed: int = 0) -> None:
    """Generate the default OVD-Shapes set unless it is already there."""
    from ..datasets.shapes import generate_ovd_shapes
    if osp.isfile(osp.join(data_root, 'annotations', 'meta.json')):
        print(f'{data_root} exists, not regenerated')
        return
    generate_ovd_shapes(data_root, seed=seed)


def run_demo(work_dir: str = 'work_dirs/demo', with_oracle: bool = False,
             options: dict | None = None) -> str:
    """Run the demo; returns the results table (also written to results.md)."""
    start = time.time()
    names = [n for n in MODELS if with_oracle or 'oracle' not in n]
    first = Config.fromfile(osp.join(CONFIG_DIR, MODELS[names[0]]))
    data_root = first.train_dataloader.dataset.data_root

    t = _step('1/5 OVD-Shapes data')
    ensure_shapes(data_root)
    print(f'({time.time() - t:.0f} s)')

    t = _step('2/5 class embeddings with the tiny CLIP')
    print(ensure_vocabulary(first), f'({time.time() - t:.0f} s)')

    rows, checkpoints = {}, {}
    for name in names:
        config = osp.join(CONFIG_DIR, MODELS[name])
        sub = osp.join(work_dir, osp.splitext(MODELS[name])[0])
        t = _step(f'3/5 train {name} ({config})')
        checkpoints[name] = pipeline.train(config, sub, options)
        print(f'({time.time() - t:.0f} s)')
        t = _step(f'4/5 evaluate {name}')
        rows[name] = pipeline.test(config, checkpoints[name], sub, options)
        print(f'({time.time() - t:.0f} s)')

    t = _step('5/5 results table and visualisations')
    val_dir = osp.join(data_root, 'images', 'val')
    images = [osp.join(val_dir, f) for f in sorted(os.listdir(val_dir))[:NUM_VIS]]
    vis = pipeline.visualise(osp.join(CONFIG_DIR, MODELS[names[0]]),
                             checkpoints[names[0]], images, work_dir,
                             score_thr=VIS_SCORE_THR, options=options)
    table = results_table(rows)
    with open(osp.join(work_dir, 'results.md'), 'w') as f:
        f.write('# OVD-Shapes results (AP in %)\n\n' + table)
    print(table)
    print(f'visualisations: {", ".join(vis)}')
    print(f'total {time.time() - start:.0f} s; table in {work_dir}/results.md')
    return table
