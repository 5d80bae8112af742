"""The one resolver of base / novel classes.

Open-vocabulary splits come from two places: a list of novel class names
(COCO 48/17, OVD-Shapes, a config's ``novel_classes``) or, for LVIS, the
``frequency`` field of the annotation file's categories (rare = novel;
common and frequent = base). Every part of ovd_ext that needs the split asks
:func:`novel_classes` / :func:`split_classes`, and every user-facing class
selection (``'all'``, ``'novel'``, ``'base'``, ``'a,b,c'`` or a list) goes
through :func:`resolve_classes`.
"""
from __future__ import annotations

import json
from typing import Sequence, Union

#: LVIS frequency labels in the order lvis-api groups them (APr, APc, APf).
LVIS_FREQUENCIES: tuple[str, ...] = ('r', 'c', 'f')
#: The frequency whose categories are the OVD novel classes on LVIS.
RARE = 'r'
#: Words :func:`resolve_classes` understands besides class names.
CLASS_SETS = ('all', 'novel', 'rare', 'base')

ClassSpec = Union[str, Sequence[str]]


def _sorted(categories: Sequence[dict]) -> list[dict]:
    return sorted(categories, key=lambda c: int(c['id']))


def frequency_groups(categories: Sequence[dict], where: str = 'the json'
                     ) -> dict[str, list[dict]]:
    """Group LVIS-style categories by ``frequency``: ``{'r': [...], 'c':
    [...], 'f': [...]}`` (each in the given order).

    Raises:
        ValueError: naming ``where`` and the category, when a category has no
            or an unknown ``frequency``.
    """
    groups: dict[str, list[dict]] = {f: [] for f in LVIS_FREQUENCIES}
    for cat in categories:
        freq = cat.get('frequency')
        if freq not in groups:
            raise ValueError(
                f'{where}: category id {cat.get("id")} ({cat.get("name")!r}) '
                f'has frequency {freq!r}; expected one of '
                f'{list(LVIS_FREQUENCIES)}')
        groups[freq].append(cat)
    return groups


def _rare(categories: Sequence[dict], where: str) -> list[dict]:
    """The rare (LVIS OVD novel) categories, by category id."""
    if not any('frequency' in c for c in categories):
        raise ValueError(f'{where} has no LVIS "frequency" field in its '
                         'categories, so it has no rare (= novel) classes; '
                         'list the novel class names instead')
    return frequency_groups(_sorted(categories), where)[RARE]


def rare_classes(categories: Sequence[dict], where: str = 'the json'
                 ) -> list[str]:
    """Names of the rare (LVIS OVD novel) categories, by category id.

    Raises:
        ValueError: when no category has a ``frequency`` (e.g. a COCO json:
            its split must be given by name) or one has an unknown value.
    """
    return [c['name'] for c in _rare(categories, where)]


def rare_category_ids(categories: Sequence[dict], where: str = 'the json'
                      ) -> list[int]:
    """Ids of the rare (LVIS OVD novel) categories, sorted; errors as
    :func:`rare_classes`."""
    return [int(c['id']) for c in _rare(categories, where)]


def novel_classes(classes: Sequence[str],
                  novel: Sequence[str] | None = None,
                  categories: Sequence[dict] | None = None,
                  where: str = 'the dataset') -> list[str]:
    """The novel classes among ``classes`` (in ``classes`` order): the names
    in ``novel`` when given, else the rare ones of ``categories`` (LVIS).

    Raises:
        ValueError: naming ``where``, for a novel name that is not a class,
            or when neither ``novel`` nor LVIS ``categories`` are given.
    """
    if novel is None:
        if categories is None:
            raise ValueError(f'{where}: no novel classes given and no LVIS '
                             'categories to read the rare ones from')
        novel = rare_classes(categories, where)
    _check_known(novel, classes, where)
    wanted = set(novel)
    return [c for c in classes if c in wanted]


def split_classes(classes: Sequence[str], novel: Sequence[str],
                  where: str = 'the dataset') -> tuple[list[str], list[str]]:
    """``(base, novel)`` of ``classes``, both in ``classes`` order.

    Raises:
        ValueError: if a name in ``novel`` is not one of ``classes``.
    """
    _check_known(novel, classes, where)
    wanted = set(novel)
    return ([c for c in classes if c not in wanted],
            [c for c in classes if c in wanted])


def _check_known(names: Sequence[str], classes: Sequence[str],
                 where: str) -> None:
    known = set(classes)
    missing = [n for n in names if n not in known]
    if missing:
        raise ValueError(f'{where}: class(es) {missing[:5]} are not among its '
                         f'{len(classes)} classes (e.g. {list(classes)[:5]})')


def resolve_classes(categories: Sequence[dict], spec: ClassSpec,
                    novel: Sequence[str] | None = None,
                    where: str = 'the json') -> list[str]:
    """Class names selected by ``spec`` from COCO/LVIS ``categories``.

    Args:
        categories: the json's ``categories`` (``id``, ``name``, and for
            LVIS ``frequency``).
        spec: ``'all'`` (every category, by id), ``'novel'`` / ``'rare'``
            (the ``novel`` names if given, else the LVIS rare categories),
            ``'base'`` (the others), a comma-separated string of names or a
            list of names (returned as given, after stripping blanks).
        novel: the novel names of a dataset without LVIS frequencies.
        where: the json's name for error messages.

    Raises:
        ValueError: for an empty selection, unknown names in a list, or a
            novel/base request on a json without a split.
    """
    names = [c['name'] for c in _sorted(categories)]
    if isinstance(spec, str):
        if spec in CLASS_SETS:
            if spec == 'all':
                return names
            nov = novel_classes(names, novel, categories, where)
            if spec == 'base':
                return [n for n in names if n not in set(nov)]
            return nov
        spec = [t.strip() for t in spec.split(',') if t.strip()]
    out = [str(t) for t in spec]
    if not out:
        raise ValueError(f'{where}: empty class selection')
    _check_known(out, names, where)
    return out


def resolve_class_names(spec: Sequence[str] | str | None) -> list[str]:
    """Names from a list, or from a file: an LVIS json (rare classes) or a txt."""
    if spec is None:
        return []
    if isinstance(spec, str):
        if spec.endswith('.json'):
            with open(spec) as f:
                data = json.load(f)
            if 'categories' not in data:
                raise ValueError(f'{spec}: no "categories" list, so no LVIS '
                                 'rare (= novel) classes to read')
            return rare_classes(data['categories'], where=spec)
        with open(spec) as f:
            return [line.strip() for line in f if line.strip()]
    return list(spec)
