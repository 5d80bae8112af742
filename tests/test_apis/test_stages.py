"""Stage declarations: parsing, checks, references and the runner."""
from __future__ import annotations

import pytest

from ovd_ext.apis.stages import (STAGE_KINDS, Stage, StageContext,
                                 find_declarations, load_declaration,
                                 resolve, run_stages, select)

CALLS: list[tuple[str, dict]] = []


@STAGE_KINDS.register_module(name='test-echo', force=True)
def _echo(stage: Stage, ctx: StageContext) -> dict:
    """A stage kind for these tests: records its resolved options."""
    opts = resolve(stage.options, ctx.outputs, stage.name)
    CALLS.append((stage.name, opts))
    return {'file': f'{ctx.stage_dir(stage)}/out.json', 'seed': ctx.seed}


def _write(tmp_path, text: str) -> str:
    folder = tmp_path / 'my_method'
    folder.mkdir(exist_ok=True)
    path = folder / 'ovd-shapes.stages.yml'
    path.write_text(text)
    return str(path)


def test_repository_declarations_are_valid():
    decls = {d.method: d for d in find_declarations('configs')}
    assert {'ov_baselines', 'vl_plm'} <= set(decls)
    vl_plm = decls['vl_plm']
    assert [s.name for s in vl_plm.stages] == [
        'proposal-generator', 'pseudo-labels', 'student']
    assert [s.kind for s in vl_plm.stages] == ['train', 'pseudo_labels',
                                                'train']
    # every method shows exactly one headline row in `make demo`
    for d in decls.values():
        assert sum(r.headline for r in d.rows) == 1, d.method


def test_references_resolve_in_order(tmp_path):
    path = _write(tmp_path, """
stages:
  - {name: a, kind: test-echo, config: x.py}
  - name: b
    kind: test-echo
    config: y.py
    use: ['{a.file}', {nested: 'seed={a.seed}'}]
rows:
  - {model: m, title: M, stage: b, headline: true}
""")
    decl = load_declaration(path)
    assert decl.method == 'my_method'
    CALLS.clear()
    out = run_stages(decl, StageContext(str(tmp_path / 'w'), seed=3),
                     log=lambda m: None)
    assert [c[0] for c in CALLS] == ['a', 'b']
    assert CALLS[1][1]['use'] == [f'{tmp_path}/w/a/out.json',
                                  {'nested': 'seed=3'}]
    assert out['b']['seed'] == 3


@pytest.mark.parametrize('body,message', [
    ("stages:\n  - {name: a, kind: nope, config: x.py}\n",
     "unknown stage kind 'nope'"),
    ("stages:\n  - {name: a, kind: test-echo, config: x.py, u: '{b.file}'}\n"
     "  - {name: b, kind: test-echo, config: x.py}\n",
     "refers to stage 'b', which is not declared before"),
    ("stages:\n  - {name: a, kind: test-echo, config: x.py}\n"
     "  - {name: a, kind: test-echo, config: x.py}\n", "used twice"),
    ("stages:\n  - {name: a, kind: test-echo}\n", "lacks ['config']"),
    ("stages:\n  - {name: a, kind: test-echo, config: x.py}\nrows:\n"
     "  - {model: m, title: T, stage: zz}\n", "names stage 'zz'"),
    ("stages:\n  - {name: a, kind: test-echo, config: x.py}\nrows:\n"
     "  - {model: m, title: T, stage: a, colour: red}\n",
     "unknown keys ['colour']"),
    ("rows: []\n", 'declares no stages'),
])
def test_bad_declarations_name_the_problem(tmp_path, body, message):
    with pytest.raises(ValueError, match=message.replace('[', r'\[')
                       .replace(']', r'\]')):
        load_declaration(_write(tmp_path, body))


def test_unknown_output_key_is_an_error():
    with pytest.raises(KeyError, match=r'\{a.nothing\}'):
        resolve('{a.nothing}', {'a': {'file': 'f'}}, 'here')


def test_select_unknown_method():
    decls = find_declarations('configs')
    assert [d.method for d in select(decls, ['vl_plm'])] == ['vl_plm']
    with pytest.raises(ValueError, match='no stage declaration'):
        select(decls, ['no_such_method'])
