"""``make demo``: the model zoo on OVD-Shapes in a few minutes (CPU).

generate OVD-Shapes -> embed each config's vocabulary with the committed
tiny CLIP -> evaluate the headline zoo checkpoint of every declared method on
the val split (a progress bar per model; ``evaluate_all`` evaluates every
row) -> one results table, the other rows read from the metafiles and marked
so -> one detector run with a custom vocabulary it never saw in training,
drawn beside the ground truth. Nothing here trains; nothing here reads what
``make reproduce`` writes.
"""
from __future__ import annotations

import os.path as osp
import time
from typing import Sequence

from mmengine.config import Config

from ..utils.io import atomic_open, write_json_atomic
from . import pipeline
from .results_table import metrics_to_columns, results_table
from .stages import Declaration, Row, find_declarations, select
from .vocabulary import ensure_vocabulary
from .zoo import ZooModel, load_zoo

#: columns after the AP columns: pseudo-label quality and where a row's
#: numbers come from
EXTRA_COLUMNS = ('AP@PL', '#@PL', 'source')
#: how far an evaluated zoo checkpoint may be from its metafile (AP points,
#: the metafile rounds to 0.1; tests/test_apis/test_zoo.py checks the same)
METAFILE_TOLERANCE = 0.1


class Steps:
    """Numbered, timed progress lines."""

    def __init__(self, total: int) -> None:
        self.total, self.done, self.t = total, 0, time.time()

    def __call__(self, msg: str) -> None:
        self.done += 1
        self.t = time.time()
        print(f'\n==> {self.done}/{self.total} {msg}', flush=True)

    def took(self) -> None:
        print(f'({time.time() - self.t:.0f} s)', flush=True)


def ensure_shapes(data_root: str, seed: int = 0) -> None:
    """Generate the default OVD-Shapes set unless it is already there."""
    from ..shapes import generate_ovd_shapes
    if osp.isfile(osp.join(data_root, 'annotations', 'meta.json')):
        print(f'{data_root} exists, not regenerated')
        return
    generate_ovd_shapes(data_root, seed=seed, workers=2)  # same bytes as 1


def prepare_data(configs: Sequence[str]) -> None:
    """OVD-Shapes and every config's vocabulary file (made with the tiny
    CLIP of the config's ``clip`` field when missing or stale)."""
    roots, vocabularies = set(), set()
    for path in configs:
        cfg = Config.fromfile(path)
        root = cfg.get('data_root')
        if root and root not in roots:
            roots.add(root)
            ensure_shapes(root)
        if cfg.get('vocabulary') and cfg.vocabulary not in vocabularies:
            vocabularies.add(cfg.vocabulary)
            print(ensure_vocabulary(cfg))


def zoo_entry(zoo: dict[str, ZooModel], row: Row,
              decl: Declaration) -> ZooModel:
    """The metafile model a row names, with a clear error when absent."""
    if row.model not in zoo:
        raise KeyError(f'{decl.path}: row {row.title!r} names model '
                       f'{row.model!r}, which no metafile listed in '
                       'model-index.yml has')
    return zoo[row.model]


def extra_titles(row: Row) -> list[str]:
    return [t for titles in row.extra_metrics.values() for t in titles]


def evaluate_zoo_model(model: ZooModel, work_dir: str,
                       title: str) -> dict[str, float]:
    """Evaluate a zoo checkpoint on its config's test split; returns table
    columns (AP in percent) and warns when they leave the metafile's."""
    if not model.weights or not osp.isfile(model.weights):
        raise FileNotFoundError(
            f'zoo checkpoint {model.weights!r} of {model.name} not found '
            f'(metafile {model.metafile})')
    metrics = pipeline.test(model.config, model.weights,
                            osp.join(work_dir, model.name), progress=title)
    columns = metrics_to_columns(metrics)
    off = {t: (v, model.metrics[t]) for t, v in columns.items()
           if t in model.metrics
           and abs(v - model.metrics[t]) > METAFILE_TOLERANCE}
    if off:
        print(f'WARNING {model.name}: evaluated numbers differ from the '
              f'metafile by more than {METAFILE_TOLERANCE} AP: {off}')
    return columns


def run_demo(work_dir: str = 'work_dirs/demo',
             methods: Sequence[str] | None = None,
             evaluate_all: bool = False, vocabulary_demo: bool = True,
             root: str = '.') -> str:
    """Evaluate the zoo (headline rows, or all), write ``results.md`` and the
    custom-vocabulary PNGs under ``work_dir``; returns the table."""
    start = time.time()
    decls = select(find_declarations(osp.join(root, 'configs')),
                   list(methods or []))
    zoo = load_zoo(root)
    rows = [(d, r) for d in decls for r in d.rows]
    todo = [(d, r) for d, r in rows if evaluate_all or r.headline]
    step = Steps(2 + len(todo) + int(vocabulary_demo))

    step('OVD-Shapes data and vocabularies')
    prepare_data(sorted({zoo_entry(zoo, r, d).config for d, r in rows}))
    step.took()
    table_rows: dict[str, dict] = {}
    for decl, row in rows:
        model = zoo_entry(zoo, row, decl)
        values = {t: model.metrics[t] for t in extra_titles(row)
                  if t in model.metrics}
        if (decl, row) in todo:
            step(f'evaluate {row.title} ({model.weights})')
            values.update(evaluate_zoo_model(model, work_dir, row.title))
            values['source'] = 'evaluated'
            step.took()
        else:
            values.update(model.metrics)
            values['source'] = 'metafile'
        table_rows[row.title] = values
    table = results_table(table_rows, EXTRA_COLUMNS)
    header = ('# OVD-Shapes model zoo (AP in %)\n\n`source`: evaluated '
              'now from the zoo checkpoint, or read from the metafile '
              '(`make demo-all` evaluates every row).\n\n')
    with atomic_open(osp.join(work_dir, 'results.md')) as f:
        f.write(header + table)
    print('\n' + table)
    if vocabulary_demo:
        step('a custom vocabulary the model never saw in training')
        from .vocabulary_demo import run_vocabulary_demo
        pngs = run_vocabulary_demo(decls, zoo, work_dir)
        print('\n'.join(pngs))
        step.took()
    total = time.time() - start
    print(f'total {total:.0f} s; table in {work_dir}/results.md')
    write_json_atomic(osp.join(work_dir, 'timing.json'),
                      {'seconds': round(total, 1)})
    return table
