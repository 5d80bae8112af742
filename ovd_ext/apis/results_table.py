"""One markdown table of open-vocabulary results across models.

Columns are named by title (the metafiles' ``Metrics`` keys use the same
titles); :func:`metrics_to_columns` turns what our metrics return (keys such
as ``coco/bbox_AP50_novel``, values in [0, 1]) into titled percentages.
"""
from __future__ import annotations

import math
from typing import Mapping, Sequence

#: (column title, metric key) in table order; keys as our metrics name them.
COLUMNS = (
    ('AP50 base', 'coco/bbox_AP50_base'),
    ('AP50 novel', 'coco/bbox_AP50_novel'),
    ('AP50 all', 'coco/bbox_AP50_all'),
    ('mask AP50 base', 'coco/segm_AP50_base'),
    ('mask AP50 novel', 'coco/segm_AP50_novel'),
    # XPM's constrained setting (novel classes on the images with them)
    ('AP50 novel constr.', 'coco/bbox_AP50_novel_constrained'),
    ('mask AP50 novel constr.', 'coco/segm_AP50_novel_constrained'),
    ('box AP', 'lvis/bbox_AP'),
    ('box APr', 'lvis/bbox_APr'),
    ('box APc', 'lvis/bbox_APc'),
    ('box APf', 'lvis/bbox_APf'),
    ('mask AP', 'lvis/segm_AP'),
    ('mask APr', 'lvis/segm_APr'),
    ('mask APc', 'lvis/segm_APc'),
    ('mask APf', 'lvis/segm_APf'),
    # region classification with ground-truth boxes (RegionCLIP Table 4)
    ('GT-box acc', 'region_cls/acc'),
    ('GT-box acc base', 'region_cls/acc_base'),
    ('GT-box acc novel', 'region_cls/acc_novel'),
    # closed-vocabulary COCO box AP over all classes (SSOD, VL-PLM Table 3)
    ('COCO AP', 'coco/bbox_mAP'),
    ('COCO AP50', 'coco/bbox_mAP_50'),
)
#: columns that are counts, not AP in [0, 1] (printed as they are)
COUNT_COLUMNS = ('#@PL',)


def metrics_to_columns(metrics: Mapping[str, float],
                       extra: Mapping[str, str] | None = None
                       ) -> dict[str, float]:
    """``{metric key: value in [0, 1]}`` -> ``{column title: percent}``
    (``-1`` = undefined stays ``-1``); ``extra`` maps more titles to keys
    (a title in :data:`COUNT_COLUMNS` is copied, not scaled)."""
    out = {}
    for title, key in list(COLUMNS) + list((extra or {}).items()):
        if key not in metrics:
            continue
        value = float(metrics[key])
        if title in COUNT_COLUMNS or value < 0:
            out[title] = value
        else:
            out[title] = 100.0 * value
    return out


def _fmt(title: str, value) -> str:
    if value is None:
        return '-'
    if isinstance(value, str):
        return value
    if math.isnan(value) or value < 0:
        return 'n/a'
    return f'{value:.2f}' if title in COUNT_COLUMNS else f'{value:.1f}'


def results_table(rows: Mapping[str, Mapping[str, float]],
                  extra: Sequence[str] = ()) -> str:
    """Markdown table, one row per model.

    Args:
        rows: row title -> ``{column title: value}`` (AP in percent; a str
            is printed as it is).
        extra: titles of further columns after :data:`COLUMNS` (e.g.
            ``'AP@PL'``, ``'#@PL'``, ``'source'``).
    """
    cols = [t for t, _ in COLUMNS] + list(extra)
    lines = ['| model | ' + ' | '.join(cols) + ' |',
             '| --- |' + ' ---: |' * len(cols)]
    for name, values in rows.items():
        cells = [_fmt(t, values.get(t)) for t in cols]
        lines.append(f'| {name} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines) + '\n'
