"""Object nouns of a caption: XPM's O_c (Sec. 3.2.2).

The paper keeps the caption words that are descendants of WordNet's
"object" node. WordNet's data cannot be downloaded on our machines, so by
default a caption's object nouns are the entries of a *noun vocabulary* it
mentions, found with the project's one caption matcher
(:class:`~.concept_pool.ConceptMatcher`: lowercase words, noun lemmas from
``lemminflect``, which ships its data, so ``"hearts" -> heart``; multi-word
forms matched longest first, so ``"traffic light"`` is one noun and its
``"light"`` is not counted again; synonyms map to their entry, so
``"donut"`` -> ``ring`` when the vocabulary lists it as a synonym).

The vocabulary is a json (COCO / LVIS ``categories``, synonyms included), a
text file (one entry per line, synonyms separated by ``'/'``), a list, or a
shipped list named after an mmdet dataset's classes: ``'coco'``, ``'lvis'``
(v1), ``'objects365'`` (v2), lowercased, joined with ``'+'``
(``'lvis+coco'``). One entry per surface word: an entry whose name without
its parenthesised part is already present is left out (LVIS ``'car
(automobile)'`` keeps COCO's ``'car'`` out, and within LVIS ``'fish'`` keeps
``'fish (food)'`` out), so a caption word never becomes two objects.

When nltk's WordNet data is installed locally (``nltk.download('wordnet')``
done by the user, never at run time), ``wordnet=True`` (or ``'auto'``, when
present) additionally keeps only entries with a noun sense under
``object.n.01``, as the paper does; ``wordnet=True`` without the data is an
error that says how to install it.
"""
from __future__ import annotations

import os.path as osp
from functools import lru_cache
from typing import Sequence

from .concept_pool import (_PAREN, Candidate, ConceptMatcher,
                           candidates_from_list, load_candidates)

#: Shipped noun lists: mmdet dataset classes (their METAINFO).
SHIPPED = {
    'coco': ('mmdet.datasets.coco', 'CocoDataset'),
    'lvis': ('mmdet.datasets.lvis', 'LVISV1Dataset'),
    'objects365': ('mmdet.datasets.objects365', 'Objects365V2Dataset'),
}
WORDNET_ROOT = 'object.n.01'


def shipped_nouns(name: str) -> list[str]:
    """Class names of a shipped list (see :data:`SHIPPED`), ``'_'`` as
    space (LVIS ``'traffic_light'``)."""
    import importlib
    if name not in SHIPPED:
        raise KeyError(f'unknown shipped noun list {name!r}; one of '
                       f'{sorted(SHIPPED)} (join with "+"), or give a json / '
                       'text file or a list')
    module, cls = SHIPPED[name]
    classes = getattr(importlib.import_module(module), cls).METAINFO['classes']
    return [c.replace('_', ' ').lower() for c in classes]


def load_nouns(source: str | Sequence) -> list[Candidate]:
    """The noun vocabulary (see the module doc) as candidates."""
    parts = source.split('+') if isinstance(source, str) else []
    if parts and not source.endswith('.json') and not osp.isfile(source) \
            and any(part in SHIPPED for part in parts):
        unknown = [p for p in parts if p not in SHIPPED]
        if unknown:
            raise KeyError(f'unknown shipped noun list(s) {unknown} in '
                           f'{source!r}; shipped: {sorted(SHIPPED)}')
        names, seen = [], set()
        for part in source.split('+'):
            for name in shipped_nouns(part):
                key = _PAREN.sub(' ', name).strip()
                if key not in seen:
                    seen.add(key)
                    names.append(name)
        return candidates_from_list(names)
    return load_candidates(source)


def wordnet_available() -> bool:
    """Whether nltk and its WordNet data are installed locally."""
    try:
        from nltk.corpus import wordnet
        wordnet.synsets('dog')
    except (ImportError, LookupError, OSError):
        return False
    return True


@lru_cache(maxsize=None)
def is_wordnet_object(name: str) -> bool:
    """Whether a noun has a sense under WordNet's ``object.n.01``."""
    from nltk.corpus import wordnet
    root = wordnet.synset(WORDNET_ROOT)
    for syn in wordnet.synsets(name.replace(' ', '_'), pos=wordnet.NOUN):
        if syn == root or root in syn.closure(lambda s: s.hypernyms()):
            return True
    return False


class CaptionNouns:
    """Finds the object nouns (vocabulary entries) of captions.

    Args:
        nouns: the noun vocabulary (see the module doc).
        wordnet: ``'auto'`` (filter with WordNet when installed), True
            (required) or False (never).
    """

    def __init__(self, nouns: str | Sequence, wordnet: bool | str = 'auto'
                 ) -> None:
        if wordnet not in (True, False, 'auto'):
            raise ValueError(f"wordnet must be True, False or 'auto', got "
                             f'{wordnet!r}')
        cands = load_nouns(nouns)
        have = wordnet_available() if wordnet else False
        if wordnet is True and not have:
            raise RuntimeError(
                'wordnet=True needs nltk and its WordNet data installed '
                'locally (pip install nltk; python -m nltk.downloader '
                "wordnet); use wordnet='auto' or False without it")
        self.used_wordnet = have
        self.dropped_by_wordnet = []
        if have:
            keep = [c for c in cands if is_wordnet_object(c.name)]
            self.dropped_by_wordnet = [c.name for c in cands if c not in keep]
            cands = keep
        if not cands:
            raise ValueError(f'no noun of {nouns!r:.80} is left')
        self.names = [c.name for c in cands]
        self._order = {n: i for i, n in enumerate(self.names)}
        self._matcher = ConceptMatcher(cands)

    def __call__(self, captions: str | Sequence[str]) -> list[str]:
        """Object nouns of one caption or of all captions of an image
        (each once, in vocabulary order)."""
        texts = [captions] if isinstance(captions, str) else captions
        found: set[str] = set()
        for text in texts:
            found |= self._matcher.find(text)
        return sorted(found, key=self._order.__getitem__)
