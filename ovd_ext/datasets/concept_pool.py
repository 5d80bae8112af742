"""RegionCLIP's concept pool: object concepts found in captions (RegionCLIP
Sec. 3.1, "Semantic region representation"), kept when they occur in at least
``min_count`` captions (Sec. 4 (datasets): "Object concepts whose frequency are
lower than 100 are discarded").

The paper parses captions with an off-the-shelf scene-graph parser (triplet
extraction, e.g. man-play-ball) and keeps the object nouns. We do not run a
parser: that needs a parser model download, which our machines cannot do at
run time (DESIGN.md §4). Instead captions are matched against a *candidate
vocabulary*, the detection vocabularies of interest (COCO / LVIS categories
with their synonyms, or a class file), after lemmatisation:

* text is lowercased and split into words (runs of letters / digits, so
  ``"t-shirt"`` and ``"t shirt"`` are the same two words);
* every word is lemmatised as a noun with ``lemminflect`` (it ships its own
  data, no download): ``"hearts" -> "heart"``, ``"mice" -> "mouse"``; a word
  with several noun lemmas (``"leaves" -> leave / leaf``) matches any of them;
  candidate forms are lemmatised the same way, their last word included
  (``"traffic lights" -> "traffic light"``);
* forms are matched on word boundaries, leftmost first and longest first, so
  ``"traffic light"`` beats ``"light"`` and the ``"light"`` inside it is not
  counted again;
* a concept counts at most once per caption, however often the caption names
  it: the frequency is the number of captions (not images) naming it, as in
  the paper. A form shared by several candidates counts for each of them.

The pool is thus restricted to the candidates, which is what a detection
transfer needs (the concepts of its vocabularies), while the threshold keeps
only concepts the captions really talk about.
"""
from __future__ import annotations

import itertools
import json
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Mapping, Sequence

from lemminflect import getLemma

from ..utils.io import write_json_atomic
from ..vlm.class_names import ClassList, clean_name, from_json, from_text_file

_WORD = re.compile(r'[^\W_]+')
_PAREN = re.compile(r'\([^)]*\)')


@dataclass(frozen=True)
class Candidate:
    """A candidate concept: ``name`` (as it goes into the pool and the
    vocabulary sidecar) and ``synonyms``, its surface forms (the name first),
    used both to find it in captions and as prompts. A parenthesised part
    (LVIS ``'bow (weapon)'``) stays in the prompt but is left out when
    matching (``'bow'``)."""
    name: str
    synonyms: tuple[str, ...]

    def match_forms(self) -> list[str]:
        """Surface forms as matched: parenthesised parts removed, cleaned."""
        forms = [clean_name(_PAREN.sub(' ', s)) for s in self.synonyms]
        return list(dict.fromkeys(f.lower() for f in forms if f))


# ----------------------------------------------------------------- captions
def load_captions(path: str) -> dict[int, list[str]]:
    """Captions of a COCO-Captions json, ``{image_id: [caption, ...]}`` in
    file order. Errors name the file (and the annotation index)."""
    try:
        with open(path, encoding='utf-8') as f:
            data = json.load(f)
    except FileNotFoundError:
        raise FileNotFoundError(f'captions file {path} not found') from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f'captions file {path} is not json ({e})') from None
    anns = data.get('annotations') if isinstance(data, dict) else None
    if not isinstance(anns, list):
        raise ValueError(f'captions file {path} has no "annotations" list '
                         '(expected COCO Captions format)')
    out: dict[int, list[str]] = {}
    for i, ann in enumerate(anns):
        cap = ann.get('caption') if isinstance(ann, dict) else None
        if not isinstance(cap, str):
            raise ValueError(f'{path}: annotation {i} has no string '
                             f'"caption" (got {ann!r:.120})')
        if 'image_id' not in ann:
            raise ValueError(f'{path}: annotation {i} has no "image_id"')
        out.setdefault(ann['image_id'], []).append(cap)
    if not out:
        raise ValueError(f'captions file {path} has no captions')
    return out


# --------------------------------------------------------------- candidates
def _from_class_list(classes: ClassList) -> list[Candidate]:
    # synonyms[0] is the cleaned class name (vlm.class_names)
    return [Candidate(syn[0], tuple(syn)) for syn in classes.synonyms]


def _check_unique(cands: list[Candidate], source: str) -> list[Candidate]:
    dup = [n for n, k in Counter(c.name for c in cands).items() if k > 1]
    if dup:
        raise ValueError(f'candidate concepts from {source} repeat names: '
                         f'{sorted(dup)[:10]}')
    if not cands:
        raise ValueError(f'no candidate concepts in {source}')
    return cands


def candidates_from_json(path: str,
                         use_synonyms: bool = True) -> list[Candidate]:
    """Categories of a COCO / LVIS json (sorted by id): ``'traffic_light'``
    -> ``'traffic light'``; LVIS ``synonyms`` are surface forms too."""
    return _check_unique(
        _from_class_list(from_json(path, use_synonyms=use_synonyms)), path)


def candidates_from_text(path: str) -> list[Candidate]:
    """One concept per line, synonyms separated by ``'/'`` (the class-file
    convention of ``tools/embed_vocabulary.py --class-file``)."""
    return _check_unique(_from_class_list(from_text_file(path)), path)


def candidates_from_list(
        items: Sequence[str | Sequence[str] | Candidate]) -> list[Candidate]:
    """From Python: a name, a list of synonyms (name first) or a
    :class:`Candidate` per concept. Strings are used as given (no '/')."""
    cands = []
    for item in items:
        if isinstance(item, Candidate):
            cands.append(item)
            continue
        names = [item] if isinstance(item, str) else list(item)
        syn = list(dict.fromkeys(clean_name(n) for n in names if n.strip()))
        if not syn:
            raise ValueError(f'candidate concept without a name: {item!r}')
        cands.append(Candidate(syn[0], tuple(syn)))
    return _check_unique(cands, 'the given list')


def load_candidates(
        source: str | Sequence[str | Sequence[str] | Candidate],
        use_synonyms: bool = True) -> list[Candidate]:
    """Candidates from a ``.json`` (``categories``), a text file, or a list."""
    if isinstance(source, str):
        if source.endswith('.json'):
            return candidates_from_json(source, use_synonyms)
        return candidates_from_text(source)
    return candidates_from_list(source)


# ----------------------------------------------------------------- matching
@lru_cache(maxsize=None)
def lemmas(word: str) -> tuple[str, ...]:
    """Noun lemmas of a lowercase word (``lemminflect``), else the word."""
    found = [w for w in getLemma(word, upos='NOUN') if w]
    return tuple(dict.fromkeys(found)) or (word,)


def words(text: str) -> list[str]:
    """Lowercase words of ``text`` (letters / digits, no punctuation)."""
    return _WORD.findall(text.lower())


def _keys(tokens: Sequence[str]) -> Iterable[tuple[str, ...]]:
    """Every lemma sequence of ``tokens`` (usually exactly one)."""
    return itertools.product(*(lemmas(t) for t in tokens))


class ConceptMatcher:
    """Finds candidate concepts in text (see the module doc for the rules)."""

    def __init__(self, candidates: Sequence[Candidate]) -> None:
        self.names = [c.name for c in candidates]
        self.index: dict[tuple[str, ...], set[int]] = {}
        for i, cand in enumerate(candidates):
            for form in cand.match_forms():
                toks = words(form)
                for key in _keys(toks) if toks else ():
                    self.index.setdefault(key, set()).add(i)
        self.max_len = max((len(k) for k in self.index), default=0)

    def find(self, text: str) -> set[str]:
        """Names of the candidates that ``text`` mentions."""
        toks = words(text)
        found: set[int] = set()
        i = 0
        while i < len(toks):
            step = 1
            for n in range(min(self.max_len, len(toks) - i), 0, -1):
                hits = [self.index[k] for k in _keys(toks[i:i + n])
                        if k in self.index]
                if hits:
                    found.update(*hits)
                    step = n
                    break
            i += step
        return {self.names[j] for j in found}


Captions = Mapping[int, Sequence[str]] | Iterable[str]


def _iter_captions(captions: Captions) -> Iterable[str]:
    if isinstance(captions, Mapping):
        for caps in captions.values():
            yield from caps
    else:
        yield from captions


def count_concepts(captions: Captions,
                   candidates: Sequence[Candidate]) -> Counter:
    """Number of captions naming each candidate (once per caption; concepts
    never named are absent). ``captions``: from :func:`load_captions` or an
    iterable of strings."""
    matcher = ConceptMatcher(candidates)
    counts: Counter = Counter()
    for cap in _iter_captions(captions):
        counts.update(matcher.find(cap))
    return counts


def pool_from_counts(counts: Mapping[str, int], min_count: int = 100,
                     captions_file: str = '<captions>'
                     ) -> list[tuple[str, int]]:
    """Concepts with ``count >= min_count``, by descending count then name
    (RegionCLIP Sec. 4 (datasets)). Raises ``ValueError`` naming the captions
    file, the threshold and the most frequent concepts when none is left."""
    if min_count < 1:
        raise ValueError(f'min_count must be >= 1, got {min_count}')
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    pool = [(n, int(c)) for n, c in ranked if c >= min_count]
    if not pool:
        top = ', '.join(f'{n}: {c}' for n, c in ranked[:10]) or 'none found'
        raise ValueError(
            f'no concept occurs in >= {min_count} captions of '
            f'{captions_file}; most frequent candidates: {top}')
    return pool


def build_concept_pool(
        captions_file: str,
        candidates: str | Sequence[str | Sequence[str] | Candidate],
        min_count: int = 100) -> list[tuple[str, int]]:
    """The concept pool ``[(concept, captions naming it), ...]`` of a
    COCO-Captions json, from the candidates (a list or a file, see
    :func:`load_candidates`), concepts in < ``min_count`` captions dropped."""
    caps = load_captions(captions_file)
    counts = count_concepts(caps, load_candidates(candidates))
    return pool_from_counts(counts, min_count, captions_file)


def pool_vocabulary(pool: Sequence[tuple[str, int]],
                    candidates: Sequence[Candidate]) -> ClassList:
    """The kept concepts as a :class:`~ovd_ext.vlm.ClassList` (synonyms join
    the prompt ensemble), in pool order, ready for ``embed_vocabulary``."""
    by_name = {c.name: c for c in candidates}
    missing = [n for n, _ in pool if n not in by_name]
    if missing:
        raise KeyError(f'pool concepts not among the candidates: {missing}')
    return ClassList([n for n, _ in pool],
                     [list(by_name[n].synonyms) for n, _ in pool])


def counts_path(vocabulary_npy: str) -> str:
    """``X.npy`` -> ``X.counts.json`` (beside the vocabulary sidecar)."""
    base = vocabulary_npy[:-4] if vocabulary_npy.endswith('.npy') else \
        vocabulary_npy
    return base + '.counts.json'


def save_pool_counts(path: str, captions_file: str, min_count: int,
                     pool: Sequence[tuple[str, int]]) -> None:
    """Write ``{"captions", "min_count", "counts": {concept: count}}``
    atomically (counts in pool order)."""
    write_json_atomic(path, {'captions': captions_file,
                             'min_count': int(min_count),
                             'counts': {n: int(c) for n, c in pool}})
