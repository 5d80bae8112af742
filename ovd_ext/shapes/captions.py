"""Web-style captions for a scene: objects named with colour, size, position.

Like real alt-text, a caption may leave an object out (each one after the most
salient is mentioned with probability ``MENTION_PROB``), groups instances of a
class ("two red circles"), and now and then uses a synonym ("automobile").
Every caption names at least one annotated class by its canonical name.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .categories import SYNONYMS, plural
from .textures import PATTERN_WORDS

MENTION_PROB = 0.7
SYNONYM_PROB = 0.15
PATTERN_WORD_PROB = 0.3
NUMBERS = ('zero', 'one', 'two', 'three', 'four', 'five', 'six')
PREFIXES = ('', 'a photo of ', 'an image of ', 'a drawing of ',
            'a picture of ', 'a cartoon of ', 'clip art of ')
BACKGROUND_PHRASES = {
    'plain': 'a plain background', 'noisy': 'a noisy background',
    'striped': 'a striped background', 'checkered': 'a checkered background',
    'cloudy': 'a blurry background'}


@dataclass
class CaptionObject:
    """What a caption may say about one object."""

    name: str
    color: str
    pattern: str
    bbox: tuple[float, float, float, float]   # x, y, w, h of the visible part


def _article(phrase: str) -> str:
    return ('an ' if phrase[0] in 'aeiou' else 'a ') + phrase


def _size_word(obj: CaptionObject, img_area: float) -> str:
    frac = obj.bbox[2] * obj.bbox[3] / img_area
    if frac < 0.025:
        return 'small'
    if frac > 0.16:
        return 'large'
    return ''


def _position(obj: CaptionObject, width: int, height: int) -> str:
    cx = (obj.bbox[0] + obj.bbox[2] / 2) / width
    cy = (obj.bbox[1] + obj.bbox[3] / 2) / height
    col = 'left' if cx < 1 / 3 else 'right' if cx > 2 / 3 else ''
    row = 'top' if cy < 1 / 3 else 'bottom' if cy > 2 / 3 else ''
    if row and col:
        return f'in the {row} {col} corner'
    if row:
        return f'at the {row}'
    if col:
        return f'on the {col}'
    return 'in the middle'


def _relation(a: CaptionObject, b: CaptionObject) -> str:
    dx = (a.bbox[0] + a.bbox[2] / 2) - (b.bbox[0] + b.bbox[2] / 2)
    dy = (a.bbox[1] + a.bbox[3] / 2) - (b.bbox[1] + b.bbox[3] / 2)
    if abs(dx) >= abs(dy):
        return 'to the left of' if dx < 0 else 'to the right of'
    return 'above' if dy < 0 else 'below'


class _Phraser:
    """Builds noun phrases; the first one of a caption uses the class name."""

    def __init__(self, rng: np.random.Generator, width: int, height: int):
        self.rng, self.width, self.height = rng, width, height
        self.canonical_used = False

    def noun(self, name: str) -> str:
        syns = SYNONYMS[name]
        if (self.canonical_used and len(syns) > 1
                and self.rng.random() < SYNONYM_PROB):
            return syns[1 + int(self.rng.integers(len(syns) - 1))]
        self.canonical_used = True
        return name

    def single(self, obj: CaptionObject, with_size: bool = True) -> str:
        words = []
        if with_size:
            words.append(_size_word(obj, self.width * self.height))
        if obj.pattern != 'plain' and self.rng.random() < PATTERN_WORD_PROB:
            words.append(PATTERN_WORDS[obj.pattern])
        words += [obj.color, self.noun(obj.name)]
        return _article(' '.join(w for w in words if w))

    def group(self, objs: list[CaptionObject]) -> str:
        if len(objs) == 1:
            return self.single(objs[0])
        noun = plural(self.noun(objs[0].name))
        colors = {o.color for o in objs}
        color = f'{objs[0].color} ' if len(colors) == 1 else ''
        return f'{NUMBERS[min(len(objs), 6)]} {color}{noun}'


def _join(items: list[str]) -> str:
    if len(items) == 1:
        return items[0]
    return ', '.join(items[:-1]) + ' and ' + items[-1]


def _mentioned(objs: list[CaptionObject], rng: np.random.Generator
               ) -> list[CaptionObject]:
    """The most salient (largest) object, plus each other one with
    probability ``MENTION_PROB``; kept in left-to-right order."""
    order = sorted(range(len(objs)),
                   key=lambda i: -objs[i].bbox[2] * objs[i].bbox[3])
    keep = {order[0]} | {i for i in order[1:] if rng.random() < MENTION_PROB}
    return sorted((objs[i] for i in keep), key=lambda o: o.bbox[0])


def _grouped(objs: list[CaptionObject]) -> list[list[CaptionObject]]:
    groups: dict[str, list[CaptionObject]] = {}
    for o in objs:
        groups.setdefault(o.name, []).append(o)
    return list(groups.values())


def _caption(template: int, objs: list[CaptionObject], all_objs: int,
             background: str, ph: _Phraser, rng: np.random.Generator) -> str:
    bg = BACKGROUND_PHRASES[background]
    if template == 0:      # listing
        prefix = PREFIXES[int(rng.integers(len(PREFIXES)))]
        text = prefix + _join([ph.group(g) for g in _grouped(objs)])
        if rng.random() < 0.5:
            text += f' on {bg}'
    elif template == 1:    # where things are
        text = _join([f'{ph.single(o, with_size=False)} '
                      f'{_position(o, ph.width, ph.height)}' for o in objs])
    elif template == 2 and len(objs) >= 2:   # a relation, then the rest
        a, b = objs[0], objs[1]
        text = f'{ph.single(a)} {_relation(a, b)} {ph.single(b)}'
        if len(objs) > 2:
            text += ', with ' + _join([ph.single(o) for o in objs[2:]])
    elif template == 3 and all_objs > 1:     # counting, possibly incomplete
        text = (f'{NUMBERS[min(all_objs, 6)]} objects on {bg}, including '
                + _join([ph.group(g) for g in _grouped(objs)]))
    else:                  # a focus on the most salient object
        big = max(objs, key=lambda o: o.bbox[2] * o.bbox[3])
        text = f'{ph.single(big)} {_position(big, ph.width, ph.height)}'
        if len(objs) > 1:
            text += ' and some other things'
    return text[0].upper() + text[1:] + '.'


def make_captions(objs: list[CaptionObject], width: int, height: int,
                  background: str, rng: np.random.Generator) -> list[str]:
    """Two or three different captions for one image (none if no object)."""
    if not objs:
        return []
    n = int(rng.integers(2, 4))
    captions: list[str] = []
    for t in rng.permutation(5):
        ph = _Phraser(rng, width, height)
        text = _caption(int(t), _mentioned(objs, rng), len(objs), background,
                        ph, rng)
        if text not in captions:
            captions.append(text)
        if len(captions) == n:
            break
    return captions
