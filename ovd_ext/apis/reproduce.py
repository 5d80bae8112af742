"""``make reproduce``: retrain every zoo row from its declared stages.

For each seed, every declared method's stages run from scratch (resumable:
finished stages are skipped, an interrupted training resumes) under
``work_dir/seed-<s>/<method>/<stage>``; each row's checkpoint is evaluated
and the table puts the reproduced numbers beside the zoo's (the metafile)
with the difference. With several seeds it adds mean and spread (sample
standard deviation): CPU training is not bit-reproducible across machines,
so a claim that one row beats another rests on those, not on one run.
"""
from __future__ import annotations

import os.path as osp
import statistics
import time
from typing import Sequence

from ..utils.io import atomic_open
from . import pipeline
from . import stage_kinds  # noqa: F401  (registers the stage kinds)
from .demo import Steps, extra_titles, prepare_data, zoo_entry
from .results_table import COLUMNS, metrics_to_columns, results_table
from .stages import StageContext, find_declarations, run_stages, select
from .zoo import load_zoo

EXTRA_COLUMNS = ('AP@PL', '#@PL')


def _mean_spread(values: list[dict], titles: Sequence[str]) -> dict:
    out = {}
    for t in titles:
        v = [x[t] for x in values if t in x]
        if not v:
            continue
        sd = statistics.stdev(v) if len(v) > 1 else 0.0
        out[t] = f'{statistics.mean(v):.1f} ± {sd:.1f}'
    return out


def _difference(new: dict, old: dict, titles: Sequence[str]) -> dict:
    return {t: f'{new[t] - old[t]:+.1f}' for t in titles
            if t in new and t in old and isinstance(new[t], float)}


def run_reproduce(work_dir: str = 'work_dirs/reproduce',
                  methods: Sequence[str] | None = None,
                  seeds: Sequence[int] = (0,), root: str = '.',
                  progress: bool = True) -> str:
    """Run every declared stage for each seed; returns the comparison table
    (also ``work_dir/reproduce.md``)."""
    start = time.time()
    decls = select(find_declarations(osp.join(root, 'configs')),
                   list(methods or []))
    zoo = load_zoo(root)
    total_stages = sum(len(d.stages) for d in decls) * len(seeds)
    step = Steps(1 + total_stages)
    step('OVD-Shapes data and vocabularies')
    configs = {s.config for d in decls for s in d.stages}
    prepare_data(sorted(configs))
    step.took()
    titles = [t for t, _ in COLUMNS] + list(EXTRA_COLUMNS)
    per_row: dict[str, list[dict]] = {}
    for seed in seeds:
        for decl in decls:
            ctx = StageContext(osp.join(work_dir, f'seed-{seed}',
                                        decl.method), seed=seed,
                               progress=progress)

            def log(msg: str, seed: int = seed) -> None:
                step(f'seed {seed}: {msg}')
            run_stages(decl, ctx, log=log)
            for row in decl.rows:
                out = ctx.outputs[row.stage]
                # rows that share a stage's checkpoint get their own dirs
                eval_dir = (out['work_dir'] if row.config is None else
                            osp.join(out['work_dir'], row.model))
                # the model as its stage built it (e.g. from files that
                # exist only in this run, not yet in the zoo)
                metrics = pipeline.test(row.eval_config(decl),
                                        out['checkpoint'], eval_dir,
                                        out.get('model_options') or None,
                                        progress=f'{row.title} (seed {seed})')
                values = metrics_to_columns(metrics)
                for stage, names in row.extra_metrics.items():
                    stage_metrics = ctx.outputs[stage].get('metrics', {})
                    values.update({t: float(stage_metrics[t]) for t in names
                                   if t in stage_metrics})
                per_row.setdefault(row.title, []).append(values)
    table_rows: dict[str, dict] = {}
    for decl in decls:
        for row in decl.rows:
            zoo_values = zoo_entry(zoo, row, decl).metrics
            runs = per_row[row.title]
            table_rows[f'{row.title}: zoo'] = zoo_values
            for seed, values in zip(seeds, runs):
                table_rows[f'{row.title}: seed {seed}'] = values
                table_rows[f'{row.title}: seed {seed} - zoo'] = _difference(
                    values, zoo_values, titles)
            if len(runs) > 1:
                table_rows[f'{row.title}: mean ± sd ({len(runs)} seeds)'] = \
                    _mean_spread(runs, titles)
    table = results_table(table_rows, [t for t in EXTRA_COLUMNS
                                       if any(t in extra_titles(r)
                                              for d in decls
                                              for r in d.rows)])
    with atomic_open(osp.join(work_dir, 'reproduce.md')) as f:
        f.write('# make reproduce: retrained vs the zoo (AP in %)\n\n'
                f'seeds {list(seeds)}; {time.time() - start:.0f} s\n\n'
                + table)
    print('\n' + table)
    return table
