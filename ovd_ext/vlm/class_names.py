"""Read a vocabulary (class names + prompt synonyms) from its sources.

Every reader returns a :class:`ClassList`: ``names`` are the classes exactly as
the dataset spells them (they go into the embedding sidecar and are checked
against the dataset), ``synonyms`` are the strings put into prompts (first =
the cleaned name; underscores become spaces, e.g. LVIS ``'bow_(weapon)'`` ->
``'bow (weapon)'``).

Text convention (class files and ``--names``): one class per line (or per
comma in ``--names``); synonyms of one class separated by ``'/'``, e.g.
``sofa/couch``; the first one is the class name. Blank lines and lines
starting with ``#`` are ignored.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

#: The class whose text embedding is the background embedding (DITO Sec. 3.1:
#: "uses the term 'background' to represent the background category").
BACKGROUND = 'background'


@dataclass
class ClassList:
    """Class names (dataset spelling) and per-class prompt synonyms."""
    names: list[str]
    synonyms: list[list[str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.synonyms:
            self.synonyms = [[clean_name(n)] for n in self.names]
        if len(self.synonyms) != len(self.names):
            raise ValueError(f'{len(self.names)} classes but '
                             f'{len(self.synonyms)} synonym lists')

    def __len__(self) -> int:
        return len(self.names)


def clean_name(name: str) -> str:
    """Prompt form of a class name: underscores to spaces, single spaces."""
    return re.sub(r'\s+', ' ', name.replace('_', ' ')).strip()


def _unique(items: list[str]) -> list[str]:
    seen, out = set(), []
    for it in items:
        if it and it not in seen:
            seen.add(it)
            out.append(it)
    return out


def from_json(path: str, use_synonyms: bool = True) -> ClassList:
    """Categories of a COCO / LVIS style json, sorted by id. LVIS
    ``synonyms`` are added to the prompts when ``use_synonyms``."""
    try:
        with open(path) as f:
            cats = json.load(f)['categories']
    except FileNotFoundError:
        raise FileNotFoundError(f'dataset json {path} not found') from None
    except (KeyError, TypeError, json.JSONDecodeError) as e:
        raise ValueError(f'{path} is not a COCO/LVIS json with a '
                         f'"categories" list ({e})') from e
    cats = sorted(cats, key=lambda c: c['id'])
    names = [c['name'] for c in cats]
    syn = []
    for c in cats:
        extra = c.get('synonyms', []) if use_synonyms else []
        syn.append(_unique([clean_name(s) for s in [c['name'], *extra]]))
    return ClassList(names, syn)


def from_dataset_class(name: str) -> ClassList:
    """``METAINFO['classes']`` of a dataset registered in mmdet's DATASETS
    (mmdet's own, e.g. ``'CocoDataset'``, ``'LVISV1Dataset'``, or ovd_ext's:
    importing this module imports the ``ovd_ext`` package first, and that
    registers them; the CLIP door itself imports no other part of ovd_ext)."""
    import mmdet.datasets  # noqa: F401  registers mmdet datasets
    from mmdet.registry import DATASETS
    cls = DATASETS.get(name)
    if cls is None:
        raise KeyError(f'dataset class {name!r} is not registered in mmdet '
                       f'DATASETS; e.g. {sorted(DATASETS.module_dict)[:8]}')
    classes = getattr(cls, 'METAINFO', {}).get('classes')
    if not classes:
        raise ValueError(f'dataset class {name} has no METAINFO["classes"]')
    return ClassList(list(classes))


def parse_class_spec(spec: str) -> tuple[str, list[str]]:
    """``'sofa/couch'`` -> (``'sofa'``, ``['sofa', 'couch']``)."""
    parts = [p.strip() for p in spec.split('/') if p.strip()]
    if not parts:
        raise ValueError(f'empty class specification {spec!r}')
    return parts[0], _unique([clean_name(p) for p in parts])


def from_specs(specs: list[str]) -> ClassList:
    """Classes from ``'name/synonym/...'`` strings."""
    parsed = [parse_class_spec(s) for s in specs]
    return ClassList([p[0] for p in parsed], [p[1] for p in parsed])


def from_text_file(path: str) -> ClassList:
    """One class per line, synonyms separated by '/' (see module doc)."""
    try:
        with open(path, encoding='utf-8') as f:
            lines = [ln.strip() for ln in f]
    except FileNotFoundError:
        raise FileNotFoundError(f'class file {path} not found') from None
    specs = [ln for ln in lines if ln and not ln.startswith('#')]
    if not specs:
        raise ValueError(f'class file {path} lists no classes')
    return from_specs(specs)


def from_names(names: str) -> ClassList:
    """Comma-separated classes, e.g. ``'cat,sofa/couch'``."""
    specs = [s for s in names.split(',') if s.strip()]
    if not specs:
        raise ValueError(f'no class names in {names!r}')
    return from_specs(specs)


def with_background(classes: ClassList) -> ClassList:
    """``classes`` with the class :data:`BACKGROUND` prepended (row 0 of the
    vocabulary, as DITO Sec. 3.1 prepends it to the base classes)."""
    if BACKGROUND in classes.names:
        raise ValueError(f'the classes already hold {BACKGROUND!r} (index '
                         f'{classes.names.index(BACKGROUND)}); it cannot be '
                         'prepended as the background class')
    return ClassList([BACKGROUND, *classes.names],
                     [[BACKGROUND], *classes.synonyms])


def from_config(cfg, background: bool | None = None) -> ClassList:
    """Classes of a config's vocabulary: its test dataset's classes, in the
    dataset's label order, after :data:`BACKGROUND` when ``background`` (by
    default the config's ``vocabulary_background``; DITO's
    ``bg_embedding='text'`` heads need it).

    Names come from the dataset ``metainfo`` in the config, else from the
    dataset class's ``METAINFO``; synonyms are added from the annotation json
    when it exists and lists them (LVIS), so prompts match ``from_json``.
    """
    if background is None:
        background = bool(cfg.get('vocabulary_background', False))
    classes = _dataset_classes(cfg)
    return with_background(classes) if background else classes


def _dataset_classes(cfg) -> ClassList:
    """Classes of a config's test dataset (see :func:`from_config`)."""
    import os.path as osp
    ds = cfg.test_dataloader.dataset
    while 'dataset' in ds:
        ds = ds['dataset']
    names = list((ds.get('metainfo') or {}).get('classes') or
                 from_dataset_class(ds['type']).names)
    ann = osp.join(ds.get('data_root') or '', ds.get('ann_file') or '')
    if not osp.isfile(ann):
        return ClassList(names)
    known = from_json(ann)
    by_name = dict(zip(known.names, known.synonyms))
    return ClassList(names, [by_name.get(n, [clean_name(n)]) for n in names])
