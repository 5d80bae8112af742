"""The model zoo as OpenMMLab packages describe it.

``model-index.yml`` at the repository root lists the metafiles
(``configs/<method>/metafile.yml``); each metafile model entry names its
``Config``, ``Weights`` (a file under ``checkpoints/``) and ``Results``
(metrics in percent, keyed by the results-table column titles, e.g.
``AP50 novel``). Beside every zoo checkpoint a ``.provenance.json`` records
how it was made (config, commit, seed, iterations, wall time, machine, the
metrics it gave). ``mim search``-style tooling reads the same files.
"""
from __future__ import annotations

import os.path as osp
from dataclasses import dataclass, field

import yaml

MODEL_INDEX = 'model-index.yml'


@dataclass
class ZooModel:
    """One metafile model entry."""
    name: str
    config: str
    collection: str
    metafile: str
    weights: str | None = None
    #: metric title (results-table column, e.g. ``'AP50 novel'``) -> value
    #: in the metafile's units (AP in percent)
    metrics: dict[str, float] = field(default_factory=dict)
    metadata: dict = field(default_factory=dict)


def _read_yaml(path: str) -> dict:
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path} not found')
    with open(path) as f:
        data = yaml.safe_load(f)
    if not isinstance(data, dict):
        raise ValueError(f'{path}: expected a mapping at the top level')
    return data


def metafile_paths(root: str = '.') -> list[str]:
    """The metafiles ``model-index.yml`` (under ``root``) imports."""
    index = _read_yaml(osp.join(root, MODEL_INDEX))
    paths = index.get('Import')
    if not isinstance(paths, list) or not paths:
        raise ValueError(f'{osp.join(root, MODEL_INDEX)}: needs an `Import` '
                         'list of metafiles')
    return [osp.join(root, p) for p in paths]


def read_metafile(path: str) -> list[ZooModel]:
    """Every model entry of one metafile."""
    data = _read_yaml(path)
    models = []
    for i, entry in enumerate(data.get('Models') or []):
        for key in ('Name', 'Config'):
            if key not in entry:
                raise ValueError(f'{path}: model {i} has no `{key}`')
        metrics: dict[str, float] = {}
        for result in entry.get('Results') or []:
            metrics.update(result.get('Metrics') or {})
        models.append(ZooModel(
            name=entry['Name'], config=entry['Config'],
            collection=entry.get('In Collection', ''), metafile=path,
            weights=entry.get('Weights'), metrics=metrics,
            metadata=entry.get('Metadata') or {}))
    return models


def load_zoo(root: str = '.') -> dict[str, ZooModel]:
    """All metafile models of the repository by name (names are unique)."""
    zoo: dict[str, ZooModel] = {}
    for path in metafile_paths(root):
        for model in read_metafile(path):
            if model.name in zoo:
                raise ValueError(f'model name {model.name!r} appears in '
                                 f'{zoo[model.name].metafile} and {path}')
            zoo[model.name] = model
    return zoo


def provenance_path(weights: str) -> str:
    """``x.pth`` -> ``x.provenance.json``."""
    return osp.splitext(weights)[0] + '.provenance.json'
