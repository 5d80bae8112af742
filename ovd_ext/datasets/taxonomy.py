"""Taxonomy map M: C^extra -> C^od (RichSem Sec. 3.3, Eq. 6).

The paper maps the classes of extra classification data (e.g. ImageNet-21k)
to the detector's classes "with a manual label mapper or ... the CLIP text
encoder"; it gives no further detail. Here:

* by name (default): exact name, or the same name after :func:`clean`
  (lower case, ``_`` -> space, stripped);
* a manual json file ``{extra_class_name: detector_class_name}``;
* by text embeddings: each extra class goes to the detector class of highest
  cosine between their (CLIP) text embeddings, if that cosine reaches a
  threshold.

All functions are pure: they read files and return dicts, they write nothing.
An extra class missing from a returned mapping is *unmapped*.
"""
from __future__ import annotations

import os.path as osp
from typing import Mapping, Sequence

import numpy as np
from mmengine.fileio import load

from ovd_ext.vlm.vocabulary import load_class_embeddings

#: Default cosine threshold of :func:`map_by_text_embeddings`. The paper
#: gives none. CLIP text embeddings of prompted class names are all close to
#: each other (unrelated names commonly reach cosines of 0.7-0.85 with the
#: same prompt), so a lower threshold maps unrelated classes together; at 0.9
#: only near-synonyms and spelling variants ('tabby cat' -> 'cat',
#: 'aeroplane' -> 'airplane') map, the conservative choice for hard labels.
#: Unmapped classes still give soft labels (Eq. 7).
DEFAULT_TEXT_THRESHOLD = 0.9


def clean(name: str) -> str:
    """Normalised class name: lower case, ``_`` -> space, stripped."""
    return name.lower().replace('_', ' ').strip()


def load_taxonomy_file(path: str) -> dict[str, str]:
    """Read a manual map M (Eq. 6): a json object
    ``{extra_class_name: detector_class_name}``.

    Raises:
        ValueError: the file is not a json object, or an entry is not a pair
            of strings (the message names the file and the entry).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'taxonomy file {path} not found')
    data = load(path, file_format='json')
    if not isinstance(data, dict):
        raise ValueError(f'taxonomy file {path}: expected a json object '
                         '{extra_class_name: detector_class_name}, got a '
                         f'{type(data).__name__}')
    for key, value in data.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise ValueError(f'taxonomy file {path}: entry {key!r}: '
                             f'{value!r} is not a pair of strings')
    return dict(data)


def check_targets(mapping: Mapping[str, str], classes: Sequence[str],
                  where: str) -> None:
    """Every target of ``mapping`` must be one of the detector ``classes``.

    Raises:
        ValueError: naming ``where`` (the file), the first bad entries
            (extra name and the unknown detector class) and their number.
    """
    known = set(classes)
    bad = [(k, v) for k, v in mapping.items() if v not in known]
    if bad:
        shown = ', '.join(f'{k!r} -> {v!r}' for k, v in bad[:10])
        more = f' and {len(bad) - 10} more' if len(bad) > 10 else ''
        raise ValueError(
            f'{where}: {len(bad)} of {len(mapping)} entries map to a class '
            f'the detector does not have: {shown}{more} (the detector has '
            f'{len(known)} classes)')


def map_by_name(extra_names: Sequence[str],
                classes: Sequence[str]) -> dict[str, str]:
    """M by name: an extra class maps to the detector class of the same name,
    exactly or after :func:`clean` (case / underscore insensitive)."""
    exact = set(classes)
    by_clean: dict[str, str] = {}
    for name in classes:
        by_clean.setdefault(clean(name), name)
    out = {}
    for name in extra_names:
        if name in exact:
            out[name] = name
        elif clean(name) in by_clean:
            out[name] = by_clean[clean(name)]
    return out


def map_by_text_embeddings(extra_npy: str, detector_npy: str,
                           threshold: float = DEFAULT_TEXT_THRESHOLD,
                           classes: Sequence[str] | None = None
                           ) -> dict[str, str]:
    """M by text embeddings: each class of the ``extra_npy`` vocabulary maps
    to the ``detector_npy`` class of highest cosine if that cosine is
    ``>= threshold`` (see :data:`DEFAULT_TEXT_THRESHOLD`), else it stays
    unmapped.

    Args:
        extra_npy, detector_npy: vocabulary files
            (:func:`ovd_ext.vlm.vocabulary.load_class_embeddings`), from the
            same text encoder.
        threshold: the minimum cosine.
        classes: if given, only these detector classes are candidates (e.g.
            to leave out a ``background`` row).

    Raises:
        ValueError: the two vocabularies have different dimensions D, or no
            detector class is a candidate.
    """
    extra, extra_names = load_class_embeddings(extra_npy)
    det, det_names = load_class_embeddings(detector_npy)
    if extra.shape[1] != det.shape[1]:
        raise ValueError(
            f'text embeddings differ in dimension: {extra_npy} has D='
            f'{extra.shape[1]}, {detector_npy} has D={det.shape[1]} (embed '
            'both vocabularies with the same text encoder)')
    keep = np.arange(len(det_names))
    if classes is not None:
        wanted = set(classes)
        keep = np.array([i for i, n in enumerate(det_names) if n in wanted],
                        dtype=np.int64)
        if len(keep) == 0:
            raise ValueError(f'{detector_npy}: none of its {len(det_names)} '
                             'classes is a detector class')
    if len(extra_names) == 0 or len(keep) == 0:
        return {}
    cos = extra @ det[keep].T  # rows are unit vectors
    best = cos.argmax(axis=1)
    out = {}
    for i, name in enumerate(extra_names):
        if cos[i, best[i]] >= threshold:
            out[name] = det_names[keep[best[i]]]
    return out


def _map_text_spec(spec: dict, rest: Sequence[str], classes: Sequence[str],
                   by_name: Mapping[str, str]) -> dict[str, str]:
    """:func:`map_by_text_embeddings` of a ``type='text'`` spec, checking
    that the extra vocabulary holds ``rest`` (but those mapped by name)."""
    missing = [k for k in ('extra_vocabulary', 'vocabulary') if k not in spec]
    if missing:
        raise ValueError(f'taxonomy {spec}: missing {missing}')
    table = map_by_text_embeddings(
        spec['extra_vocabulary'], spec['vocabulary'],
        spec.get('threshold', DEFAULT_TEXT_THRESHOLD), classes=classes)
    _, have = load_class_embeddings(spec['extra_vocabulary'])
    absent = sorted(set(rest) - set(have) - set(by_name))
    if absent:
        raise ValueError(
            f'{spec["extra_vocabulary"]}: {len(absent)} extra classes have '
            f'no text embedding: {absent[:10]}')
    return table


def build_taxonomy_map(spec: str | dict | None, extra_names: Sequence[str],
                       classes: Sequence[str]) -> dict[str, str]:
    """The map M (Eq. 6) of ``extra_names`` to detector ``classes``.

    An extra name that is a detector class always maps to itself; the others
    go through ``spec``, then (those it leaves unmapped) :func:`map_by_name`
    (so a manual file need only list the exceptions):

    * ``None``: by name only;
    * ``'x.json'`` or ``dict(type='file', path='x.json')``: a manual map
      (:func:`load_taxonomy_file`, targets checked with
      :func:`check_targets`); it may name more extra classes than used;
    * ``dict(type='text', extra_vocabulary='e.npy', vocabulary='d.npy',
      threshold=0.9)``: :func:`map_by_text_embeddings`; the extra vocabulary
      must hold every extra name that does not map by name.

    Returns:
        ``{extra name: detector class}`` for the mapped extra names only.
    """
    known = set(classes)
    out = {n: n for n in extra_names if n in known}
    rest = [n for n in extra_names if n not in known]
    if isinstance(spec, str):
        spec = dict(type='file', path=spec)
    by_name = map_by_name(rest, classes)
    if spec is None:
        table = {}
    elif isinstance(spec, dict) and spec.get('type') == 'file':
        path = spec.get('path')
        if not isinstance(path, str) or not path.endswith('.json'):
            raise ValueError(
                f'taxonomy file must be a .json path, got {path!r}')
        table = load_taxonomy_file(path)
        check_targets(table, classes, path)
    elif isinstance(spec, dict) and spec.get('type') == 'text':
        table = _map_text_spec(spec, rest, classes, by_name)
    else:
        raise ValueError(
            f'unknown taxonomy {spec!r}: use None, a .json path, '
            "dict(type='file', path=...) or dict(type='text', "
            'extra_vocabulary=..., vocabulary=..., threshold=0.9)')
    for name in rest:
        if name in table:
            out[name] = table[name]
        elif name in by_name:
            out[name] = by_name[name]
    return out
