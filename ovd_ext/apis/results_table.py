"""One markdown table of open-vocabulary results across models."""
from __future__ import annotations

#: (column title, metric key) in table order; keys as our metrics name them.
COLUMNS = (
    ('AP50 base', 'coco/bbox_AP50_base'),
    ('AP50 novel', 'coco/bbox_AP50_novel'),
    ('AP50 all', 'coco/bbox_AP50_all'),
    ('box AP', 'lvis/bbox_AP'),
    ('box APr', 'lvis/bbox_APr'),
    ('box APc', 'lvis/bbox_APc'),
    ('box APf', 'lvis/bbox_APf'),
    ('mask AP', 'lvis/segm_AP'),
    ('mask APr', 'lvis/segm_APr'),
    ('mask APc', 'lvis/segm_APc'),
    ('mask APf', 'lvis/segm_APf'),
)


def _fmt(value) -> str:
    if value is None:
        return '-'
    return f'{100 * value:.1f}' if value >= 0 else 'n/a'


def results_table(rows: dict[str, dict], extra: dict[str, str] | None = None,
                  ) -> str:
    """Markdown table: one row per model, AP figures in percent.

    Args:
        rows: model name -> metrics dict (values in [0, 1], -1 = undefined).
        extra: optional extra column title -> metric key.
    """
    cols = list(COLUMNS) + list((extra or {}).items())
    lines = ['| model | ' + ' | '.join(t for t, _ in cols) + ' |',
             '| --- |' + ' ---: |' * len(cols)]
    for name, metrics in rows.items():
        cells = []
        for _, key in cols:
            value = metrics.get(key)
            cells.append(value if isinstance(value, str) else _fmt(value))
        lines.append(f'| {name} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines) + '\n'
