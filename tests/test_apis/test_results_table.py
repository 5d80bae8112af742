"""Results table: metric keys to titled percentages, formatting."""
from ovd_ext.apis.results_table import metrics_to_columns, results_table


def test_metrics_to_columns_scales_ap_not_counts():
    cols = metrics_to_columns(
        {'coco/bbox_AP50_novel': 0.4944, 'lvis/bbox_APr': -1.0,
         'pl/n': 0.9}, extra={'#@PL': 'pl/n'})
    assert cols == {'AP50 novel': 49.44, 'box APr': -1.0, '#@PL': 0.9}


def test_table_formats_each_kind():
    table = results_table(
        {'a': {'AP50 novel': 49.44, 'box APr': -1.0, '#@PL': 0.904,
               'source': 'metafile'}}, extra=['#@PL', 'source'])
    header, rule, row = table.strip().split('\n')
    assert header.startswith('| model | AP50 base | AP50 novel |')
    assert header.endswith('| #@PL | source |')
    cells = [c.strip() for c in row.strip('|').split('|')]
    titles = [c.strip() for c in header.strip('|').split('|')]
    assert len(cells) == len(titles)
    cell = dict(zip(titles, cells))
    assert cells[0] == 'a'
    assert cell['AP50 base'] == '-'          # missing
    assert cell['AP50 novel'] == '49.4'      # percent, one decimal
    assert cell['box APr'] == 'n/a'          # undefined (-1)
    assert cells[-2:] == ['0.90', 'metafile']
