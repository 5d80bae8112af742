"""Declared OVD-Shapes stages: what a method trains and how, as data.

Every method folder under ``configs/`` that has OVD-Shapes results holds a
small declaration, ``configs/<method>/ovd-shapes.stages.yml`` (a second task
of the same method adds ``ovd-shapes-<task>.stages.yml``, the method
``<method>-<task>``, e.g. ``vl_plm-ssod``)::

    stages:                       # run in this order
      - name: proposal-generator
        kind: train               # a registered stage kind (STAGE_KINDS)
        config: configs/vl_plm/...class-agnostic_ovd-shapes-base.py
      - name: pseudo-labels
        kind: pseudo_labels
        config: configs/vl_plm/...vl-plm_ovd-shapes.py
        labeler_options: {proposal_checkpoint: '{proposal-generator.checkpoint}'}
      - name: student
        kind: train
        config: configs/vl_plm/...vl-plm_ovd-shapes.py
        cfg_options: {train_dataloader.dataset.pseudo_ann_file: '{pseudo-labels.file}'}
    rows:                         # lines of the results table
      - model: mask-rcnn_..._vl-plm_ovd-shapes   # the metafile model name
        title: VL-PLM student
        stage: student            # the train stage whose checkpoint it is
        headline: true            # `make demo` evaluates it
        extra_metrics: {pseudo-labels: [AP@PL, '#@PL']}

``'{stage.key}'`` inside a string is replaced by that output of an earlier
stage (``checkpoint`` and ``work_dir`` of a train stage, ``file`` of a
pseudo-label stage). A new method adds a declaration (and, if it needs a new
kind of step, registers a function in :data:`STAGE_KINDS`); the demo and
``make reproduce`` know no method by name.
"""
from __future__ import annotations

import glob
import os.path as osp
import re
from dataclasses import dataclass, field
from typing import Any, Callable

import yaml
from mmengine.registry import Registry

#: stage kind name -> ``fn(stage, context) -> outputs dict``
STAGE_KINDS = Registry('ovd-shapes stage kind')
DECLARATION = 'ovd-shapes.stages.yml'
#: every declaration file: the method's, and ``ovd-shapes-<task>.stages.yml``
DECLARATION_GLOB = 'ovd-shapes*.stages.yml'
_REF = re.compile(r'\{([A-Za-z0-9_-]+)\.([A-Za-z0-9_]+)\}')


@dataclass
class Stage:
    """One declared step."""
    name: str
    kind: str
    config: str
    #: everything else the declaration gives (kind-specific)
    options: dict = field(default_factory=dict)


@dataclass
class Row:
    """One line of the results table."""
    model: str
    title: str
    stage: str
    headline: bool = False
    #: stage name -> metric titles that stage reports for this row
    extra_metrics: dict = field(default_factory=dict)
    #: ``make demo``'s custom vocabulary for this model:
    #: ``{replace: {class: new prompt}, remove: [class, ...]}``
    demo_vocabulary: dict | None = None
    #: the config the row is evaluated with, when not its stage's (e.g. a
    #: zero-shot detector in ground-truth-box mode)
    config: str | None = None

    def eval_config(self, decl: 'Declaration') -> str:
        """The config this row's checkpoint is tested with."""
        return self.config or decl.stage(self.stage).config


@dataclass
class Declaration:
    """The OVD-Shapes stages and table rows of one method folder."""
    method: str
    path: str
    stages: list[Stage]
    rows: list[Row]

    def stage(self, name: str) -> Stage:
        for s in self.stages:
            if s.name == name:
                return s
        raise KeyError(f'{self.path}: no stage named {name!r}')


@dataclass
class StageContext:
    """What a stage kind gets besides its declaration."""
    work_dir: str
    outputs: dict[str, dict] = field(default_factory=dict)
    seed: int | None = None
    progress: bool = True

    def stage_dir(self, stage: Stage) -> str:
        return osp.join(self.work_dir, stage.name)


def resolve(value: Any, outputs: dict[str, dict], where: str = '') -> Any:
    """Replace ``'{stage.key}'`` references in strings (recursively in
    dicts / lists) by earlier stages' outputs."""
    if isinstance(value, dict):
        return {k: resolve(v, outputs, where) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, outputs, where) for v in value]
    if not isinstance(value, str):
        return value

    def sub(m: re.Match) -> str:
        stage, key = m.group(1), m.group(2)
        if stage not in outputs or key not in outputs[stage]:
            raise KeyError(f'{where}: {m.group(0)} refers to no output of an '
                           f'earlier stage (have: '
                           f'{ {s: sorted(o) for s, o in outputs.items()} })')
        return str(outputs[stage][key])
    return _REF.sub(sub, value)


def _check_refs(value: Any, earlier: set[str], where: str) -> None:
    text = yaml.safe_dump(value)
    for m in _REF.finditer(text):
        if m.group(1) not in earlier:
            raise ValueError(f'{where}: {m.group(0)} refers to stage '
                             f'{m.group(1)!r}, which is not declared before '
                             'it')


def declaration_method(path: str) -> str:
    """The method name of a declaration file: its folder's name, plus
    ``-<task>`` for ``ovd-shapes-<task>.stages.yml``."""
    folder = osp.basename(osp.dirname(osp.abspath(path)))
    name = osp.basename(path)
    if name == DECLARATION:
        return folder
    prefix, suffix = 'ovd-shapes-', '.stages.yml'
    if not (name.startswith(prefix) and name.endswith(suffix)
            and len(name) > len(prefix) + len(suffix)):
        raise ValueError(f'{path}: a stage declaration is named '
                         f'{DECLARATION} or ovd-shapes-<task>.stages.yml')
    return f'{folder}-{name[len(prefix):-len(suffix)]}'


def load_declaration(path: str) -> Declaration:
    """Read and check one ``ovd-shapes.stages.yml``."""
    with open(path) as f:
        data = yaml.safe_load(f) or {}
    method = declaration_method(path)
    stages, seen = [], set()
    for i, raw in enumerate(data.get('stages') or []):
        where = f'{path}: stage {i}'
        missing = [k for k in ('name', 'kind', 'config') if k not in raw]
        if missing:
            raise ValueError(f'{where} lacks {missing}')
        raw = dict(raw)
        name, kind, config = raw.pop('name'), raw.pop('kind'), raw.pop('config')
        if name in seen:
            raise ValueError(f'{where}: stage name {name!r} used twice')
        if kind not in STAGE_KINDS:
            raise ValueError(f'{where}: unknown stage kind {kind!r}; '
                             f'registered: {sorted(STAGE_KINDS.module_dict)}')
        _check_refs(raw, seen, f'{where} ({name})')
        stages.append(Stage(name, kind, config, raw))
        seen.add(name)
    if not stages:
        raise ValueError(f'{path} declares no stages')
    rows = []
    for i, raw in enumerate(data.get('rows') or []):
        missing = [k for k in ('model', 'title', 'stage') if k not in raw]
        if missing:
            raise ValueError(f'{path}: row {i} lacks {missing}')
        unknown = set(raw) - set(Row.__dataclass_fields__)
        if unknown:
            raise ValueError(f'{path}: row {i} has unknown keys '
                             f'{sorted(unknown)}')
        row = Row(**raw)
        for name in [row.stage, *row.extra_metrics]:
            if name not in seen:
                raise ValueError(f'{path}: row {row.title!r} names stage '
                                 f'{name!r}, which is not declared')
        rows.append(row)
    return Declaration(method, path, stages, rows)


def find_declarations(configs_root: str = 'configs') -> list[Declaration]:
    """Every method declaration under ``configs_root`` (sorted by folder)."""
    paths = sorted(glob.glob(osp.join(configs_root, '*', DECLARATION_GLOB)),
                   key=lambda p: (osp.dirname(p), osp.basename(p) !=
                                  DECLARATION, osp.basename(p)))
    return [load_declaration(p) for p in paths]


def select(declarations: list[Declaration],
           methods: list[str] | None) -> list[Declaration]:
    """The declarations of ``methods`` (folder names; None: all)."""
    if not methods:
        return declarations
    known = {d.method: d for d in declarations}
    unknown = [m for m in methods if m not in known]
    if unknown:
        raise ValueError(f'no stage declaration for {unknown}; declared: '
                         f'{sorted(known)}')
    return [known[m] for m in methods]


def run_stages(decl: Declaration, ctx: StageContext,
               log: Callable[[str], None] = print) -> dict[str, dict]:
    """Run (or resume: every kind skips finished work) all stages of
    ``decl`` in order; returns their outputs by stage name."""
    for stage in decl.stages:
        log(f'{decl.method} / {stage.name} ({stage.kind}: {stage.config})')
        fn = STAGE_KINDS.get(stage.kind)
        ctx.outputs[stage.name] = fn(stage, ctx)
    return ctx.outputs
