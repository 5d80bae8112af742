"""A second task of a method: ``ovd-shapes-<task>.stages.yml`` declares the
method ``<folder>-<task>`` (e.g. VL-PLM's SSOD half, ``vl_plm-ssod``)."""
from __future__ import annotations

import re

import pytest
import yaml

from ovd_ext.apis import stage_kinds  # noqa: F401  (registers the kinds)
from ovd_ext.apis.stages import (DECLARATION, DECLARATION_GLOB,
                                 declaration_method, find_declarations,
                                 load_declaration, select)

SSOD = 'configs/vl_plm/ovd-shapes-ssod.stages.yml'
FULL_TRAIN = 'data/ovd_shapes/annotations/instances_train.json'
SSOD_TITLES = ['SSOD Supervised', 'SSOD Supervised + PLs',
               'SSOD Supervised + VL-PLM', 'SSOD STAC', 'SSOD STAC + VL-PLM']
_REF = re.compile(r'\{([A-Za-z0-9_-]+)\.([A-Za-z0-9_]+)\}')


@pytest.mark.parametrize('path,method', [
    ('configs/vl_plm/ovd-shapes.stages.yml', 'vl_plm'),
    ('configs/vl_plm/ovd-shapes-ssod.stages.yml', 'vl_plm-ssod'),
    ('/abs/where/my_method/ovd-shapes-lvis-rare.stages.yml',
     'my_method-lvis-rare'),
    ('x/ov_baselines/ovd-shapes-a.stages.yml', 'ov_baselines-a'),
])
def test_declaration_method_names(path, method):
    assert declaration_method(path) == method


@pytest.mark.parametrize('name', [
    'ovd-shapes.foo.yml',              # not a stages file
    'ovd-shapes-.stages.yml',          # empty task
    'ovd-shapes_ssod.stages.yml',      # no dash: matches the glob, still bad
    'ovd-shapes.stages.yaml',
    'other.stages.yml',
])
def test_bad_declaration_names_raise(name):
    with pytest.raises(ValueError, match='ovd-shapes-<task>.stages.yml'):
        declaration_method(f'configs/m/{name}')


def test_glob_matches_both_kinds_of_name():
    import fnmatch
    assert fnmatch.fnmatch(DECLARATION, DECLARATION_GLOB)
    assert fnmatch.fnmatch('ovd-shapes-ssod.stages.yml', DECLARATION_GLOB)
    assert not fnmatch.fnmatch('ovd-shapes.foo.yml', DECLARATION_GLOB)


def _decl(stage_names: list[str], headline: str) -> str:
    return yaml.safe_dump({
        'stages': [{'name': n, 'kind': 'tool', 'config': f'{n}.py'}
                   for n in stage_names],
        'rows': [{'model': f'm-{headline}', 'title': headline,
                  'stage': stage_names[-1], 'headline': True}]})


@pytest.fixture
def configs_tree(tmp_path):
    """``b_method`` with both declarations (task file written first, named
    to sort before the plain one), ``a_method`` with a plain one, and a
    folder with no declaration."""
    root = tmp_path / 'configs'
    for folder in ('a_method', 'b_method', 'no_decl'):
        (root / folder).mkdir(parents=True)
    (root / 'b_method' / 'ovd-shapes-ssod.stages.yml').write_text(
        _decl(['s1', 's2'], 'B ssod'))
    (root / 'b_method' / 'ovd-shapes-aaa.stages.yml').write_text(
        _decl(['t'], 'B aaa'))
    (root / 'b_method' / DECLARATION).write_text(_decl(['p'], 'B plain'))
    (root / 'a_method' / DECLARATION).write_text(_decl(['q'], 'A plain'))
    (root / 'no_decl' / 'model.py').write_text('x = 1\n')
    return root


def test_find_declarations_orders_by_folder_plain_first(configs_tree):
    decls = find_declarations(str(configs_tree))
    assert [d.method for d in decls] == [
        'a_method', 'b_method', 'b_method-aaa', 'b_method-ssod']
    ssod = decls[-1]
    assert ssod.path.endswith('b_method/ovd-shapes-ssod.stages.yml')
    assert [s.name for s in ssod.stages] == ['s1', 's2']
    assert [r.title for r in ssod.rows] == ['B ssod']
    # select by the task's method name, and the plain one separately
    assert [d.method for d in select(decls, ['b_method-ssod'])] == \
        ['b_method-ssod']
    picked = select(decls, ['b_method-ssod', 'b_method'])
    assert [d.rows[0].title for d in picked] == ['B ssod', 'B plain']
    with pytest.raises(ValueError, match='b_method-stac'):
        select(decls, ['b_method-stac'])


def test_a_badly_named_task_file_fails_the_search(configs_tree):
    (configs_tree / 'a_method' / 'ovd-shapes_x.stages.yml').write_text(
        _decl(['z'], 'bad'))
    with pytest.raises(ValueError, match='ovd-shapes_x.stages.yml'):
        find_declarations(str(configs_tree))


def test_load_declaration_names_the_task_method(configs_tree):
    decl = load_declaration(
        str(configs_tree / 'b_method' / 'ovd-shapes-ssod.stages.yml'))
    assert decl.method == 'b_method-ssod'


# the real SSOD declaration ------------------------------------------------

@pytest.fixture(scope='module')
def ssod():
    return load_declaration(SSOD)


def test_real_ssod_declaration_is_found_and_selected():
    decls = find_declarations('configs')
    methods = [d.method for d in decls]
    assert methods.index('vl_plm') + 1 == methods.index('vl_plm-ssod')
    (picked,) = select(decls, ['vl_plm-ssod'])
    assert picked.path.endswith('ovd-shapes-ssod.stages.yml')


def test_real_ssod_rows(ssod):
    assert ssod.method == 'vl_plm-ssod'
    assert [r.title for r in ssod.rows] == SSOD_TITLES
    (headline,) = [r for r in ssod.rows if r.headline]
    assert headline.title == 'SSOD STAC + VL-PLM'
    assert headline.stage == 'stac-vl-plm'
    assert headline.model == \
        'faster-rcnn_r18-narrow_fpn_ovd-shapes-ssod-10pct_stac-vl-plm'
    stage_kinds_by_name = {s.name: s.kind for s in ssod.stages}
    for row in ssod.rows:
        assert stage_kinds_by_name[row.stage] == 'train', row.title
        # every pseudo-label row reports the quality of its own labels
        for name, metrics in row.extra_metrics.items():
            assert stage_kinds_by_name[name] == 'pseudo_labels'
            assert metrics == ['AP@PL', '#@PL']
    assert {r.title: list(r.extra_metrics) for r in ssod.rows} == {
        'SSOD Supervised': [], 'SSOD Supervised + PLs': ['teacher-pls'],
        'SSOD Supervised + VL-PLM': ['vl-plm-pls'],
        'SSOD STAC': ['stac-pls'], 'SSOD STAC + VL-PLM': ['vl-plm-pls']}


def test_real_ssod_stages_in_dependency_order(ssod):
    names = [s.name for s in ssod.stages]
    assert names[0] == 'splits'
    assert len(set(names)) == len(names)
    refs_seen = 0
    for i, stage in enumerate(ssod.stages):
        text = yaml.safe_dump(stage.options)
        for m in _REF.finditer(text):
            refs_seen += 1
            assert m.group(1) in names[:i], (stage.name, m.group(0))
    assert refs_seen >= 10
    order = {n: i for i, n in enumerate(names)}
    # supervised teacher -> its detections -> every pseudo-label stage
    assert order['supervised'] < order['teacher-detections'] < min(
        order['teacher-pls'], order['stac-pls'], order['vl-plm-pls'])
    assert order['proposal-generator'] < order['vl-plm-pls']
    assert order['vl-plm-pls'] < min(order['supervised-vl-plm'],
                                     order['stac-vl-plm'])


def test_real_ssod_pseudo_labels_score_against_the_full_train_json(ssod):
    pls = [s for s in ssod.stages if s.kind == 'pseudo_labels']
    assert [s.name for s in pls] == ['teacher-pls', 'stac-pls', 'vl-plm-pls']
    outputs = set()
    for stage in pls:
        assert stage.options['quality_ann_file'] == FULL_TRAIN, stage.name
        assert stage.options['labeler_options']['teacher'] == \
            '{teacher-detections.file}'
        outputs.add(stage.options['output'])
    assert len(outputs) == 3                   # no stage overwrites another
    # the splits stage writes the unlabeled split the teacher is tested on
    splits = ssod.stage('splits')
    assert splits.options['args'][0] == FULL_TRAIN
    assert splits.options['files']['unlabeled'].endswith(
        'instances_train.1@10-unlabeled.json')
