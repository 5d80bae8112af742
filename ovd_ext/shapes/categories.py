"""OVD-Shapes vocabulary: 20 class names, the base/novel split, text metadata.

Category ids are 1..20 in ``CLASSES`` order. Names are plain lower-case English
words so that a text encoder can embed them and captions can use them.

Novel classes (5) are chosen so that each shares PARTS with base classes but is
not the same as any one of them, as real novel classes do (e.g. COCO's novel
"couch" resembles base "chair", LVIS rare "puffin" resembles common "duck"):

- ``star``: sharp corners like ``triangle`` / ``diamond``, arms like ``cross``;
- ``ring``: the round outline of ``circle`` with the hole of a ``key`` bow
  and a ``cup`` handle;
- ``house``: a ``square`` body under a ``triangle`` roof;
- ``fish``: an ``ellipse`` body with a ``triangle`` tail;
- ``mushroom``: an ``umbrella`` canopy on a stem.

Their class-typical textures (``CLASS_PATTERN``) are shared with base classes
too, so neither form parts nor texture alone give a novel class away.
"""
from __future__ import annotations

CLASSES: tuple[str, ...] = (
    'circle', 'square', 'triangle', 'star', 'hexagon', 'cross', 'heart',
    'ring', 'arrow', 'crescent', 'diamond', 'ellipse', 'house', 'tree', 'car',
    'umbrella', 'key', 'mushroom', 'fish', 'cup')

NOVEL_CLASSES: tuple[str, ...] = ('star', 'ring', 'house', 'fish', 'mushroom')
BASE_CLASSES: tuple[str, ...] = tuple(c for c in CLASSES
                                      if c not in NOVEL_CLASSES)

# Intended LVIS-style frequency groups of the long-tailed train split. Rare is
# exactly the novel set (LVIS OVD protocol: rare = novel); the written
# ``frequency`` field is recomputed from the kept image counts.
RARE_CLASSES: tuple[str, ...] = NOVEL_CLASSES
COMMON_CLASSES: tuple[str, ...] = ('crescent', 'diamond', 'umbrella', 'key',
                                   'cup')
FREQUENT_CLASSES: tuple[str, ...] = tuple(
    c for c in BASE_CLASSES if c not in COMMON_CLASSES)

# Order in which train / val images get one guaranteed object (image i gets
# COVERAGE_ORDER[i % 20]): novel first, so >=5 val images cover every novel
# class and >=20 images cover every class.
COVERAGE_ORDER: tuple[str, ...] = NOVEL_CLASSES + BASE_CLASSES

SHAPE_CLASSES = frozenset(CLASSES[:12])   # geometric; the rest: drawn objects

SYNONYMS: dict[str, tuple[str, ...]] = {
    'circle': ('circle', 'disc'),
    'square': ('square',),
    'triangle': ('triangle',),
    'star': ('star',),
    'hexagon': ('hexagon',),
    'cross': ('cross', 'plus sign'),
    'heart': ('heart',),
    'ring': ('ring', 'donut'),
    'arrow': ('arrow',),
    'crescent': ('crescent', 'crescent moon'),
    'diamond': ('diamond', 'rhombus'),
    'ellipse': ('ellipse', 'oval'),
    'house': ('house', 'cottage'),
    'tree': ('tree',),
    'car': ('car', 'automobile'),
    'umbrella': ('umbrella', 'parasol'),
    'key': ('key',),
    'mushroom': ('mushroom', 'toadstool'),
    'fish': ('fish',),
    'cup': ('cup', 'mug'),
}

DEFINITIONS: dict[str, str] = {
    'circle': 'a round filled plane figure',
    'square': 'a plane figure with four equal straight sides and four right '
              'angles',
    'triangle': 'a plane figure with three straight sides',
    'star': 'a figure with five points radiating from a centre',
    'hexagon': 'a plane figure with six straight sides',
    'cross': 'a figure of two bars crossing at right angles, a plus sign',
    'heart': 'a symbol of love with two rounded lobes and a point',
    'ring': 'a round band with a hole in the middle',
    'arrow': 'a sign with a shaft and a pointed head showing a direction',
    'crescent': 'the curved shape of the moon in its first quarter',
    'diamond': 'a rhombus standing on one of its corners',
    'ellipse': 'an elongated round figure, an oval',
    'house': 'a building for people to live in, with walls and a roof',
    'tree': 'a woody plant with a trunk and a crown of leaves',
    'car': 'a road vehicle with four wheels and windows',
    'umbrella': 'a folding canopy on a stick with a curved handle',
    'key': 'a metal tool with a round bow and a toothed blade for a lock',
    'mushroom': 'a fungus with a rounded cap on a stem',
    'fish': 'a water animal with a body, fins and a tail',
    'cup': 'a small open container with a handle, for drinking',
}

PLURALS: dict[str, str] = {
    'cross': 'crosses', 'fish': 'fish', 'plus sign': 'plus signs',
    'crescent moon': 'crescent moons'}

# Class-typical surface pattern (drawn with probability CLASS_PATTERN_PROB,
# otherwise a random one), so texture carries some signal besides form.
PATTERNS: tuple[str, ...] = ('plain', 'stripes', 'dots', 'checker',
                             'gradient', 'speckle')
CLASS_PATTERN: dict[str, str] = {
    'circle': 'gradient', 'square': 'stripes', 'triangle': 'plain',
    'star': 'gradient', 'hexagon': 'speckle', 'cross': 'checker',
    'heart': 'dots', 'ring': 'speckle', 'arrow': 'stripes',
    'crescent': 'gradient', 'diamond': 'checker', 'ellipse': 'dots',
    'house': 'checker', 'tree': 'plain', 'car': 'plain',
    'umbrella': 'stripes', 'key': 'plain', 'mushroom': 'dots',
    'fish': 'stripes', 'cup': 'dots'}
CLASS_PATTERN_PROB = 0.65

# Colour names that some classes favour (probability CLASS_COLOR_PROB).
CLASS_COLORS: dict[str, tuple[str, ...]] = {
    'tree': ('green',), 'key': ('yellow', 'gray'),
    'mushroom': ('red', 'brown'),
    'crescent': ('yellow', 'white')}
CLASS_COLOR_PROB = 0.6


def plural(word: str) -> str:
    """English plural of a class name or synonym."""
    return PLURALS.get(word, word + 's')


def category_id(name: str) -> int:
    """COCO category id (1-based) of a class name."""
    return CLASSES.index(name) + 1


def coco_categories() -> list[dict]:
    """COCO ``categories`` list: id, name, supercategory."""
    return [dict(id=i + 1, name=n,
                 supercategory='shape' if n in SHAPE_CLASSES else 'object')
            for i, n in enumerate(CLASSES)]


assert len(CLASSES) == 20 and len(set(CLASSES)) == 20
assert len(NOVEL_CLASSES) == 5 and len(BASE_CLASSES) == 15
assert set(SYNONYMS) == set(CLASSES) == set(DEFINITIONS) == set(CLASS_PATTERN)
