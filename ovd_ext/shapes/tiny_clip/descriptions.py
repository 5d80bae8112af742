"""Short texts that describe one object of a known class (crop captions).

An object crop is paired with a phrase built from its class name (sometimes a
synonym) and, when known, its attributes ("a photo of a striped red star.").
The phrase is put into a template drawn from the SAME sets that build class
embeddings at inference (:data:`ovd_ext.vlm.prompts.IMAGENET80` and
:data:`~ovd_ext.vlm.prompts.SHORT`) or a caption-like one, so the prompt
ensemble of zero-shot classification is in-distribution for the text tower.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from ...vlm.prompts import IMAGENET80, SHORT

# caption-like phrasings (web alt-text style, as in OVD-Shapes captions)
CAPTION_TEMPLATES: tuple[str, ...] = (
    '{}', '{}.', 'a {}', 'a {} on a background.', 'an image of a {}.',
    'a picture of a {}.', 'clip art of a {}.', 'a cartoon of a {}.',
    'a drawing of a {}.', 'a {} in the middle.', 'a single {}.')


@dataclass
class DescriptionConfig:
    """How object descriptions are drawn.

    Attributes:
        template_sets: the template pools and their sampling weights.
        attribute_prob: probability to mention the colour of an object whose
            colour is known (otherwise the bare class noun).
        pattern_prob: probability to also mention the pattern word when
            attributes are mentioned.
        synonym_prob: probability to use another synonym than the first.
    """

    template_sets: Sequence[tuple[Sequence[str], float]] = field(
        default_factory=lambda: ((IMAGENET80, 0.5), (SHORT, 0.3),
                                 (CAPTION_TEMPLATES, 0.2)))
    attribute_prob: float = 0.5
    pattern_prob: float = 0.3
    synonym_prob: float = 0.2

    def __post_init__(self) -> None:
        weights = [w for _, w in self.template_sets]
        if not weights or min(weights) < 0 or sum(weights) <= 0:
            raise ValueError(f'template_sets need positive weights, got '
                             f'{weights}')
        for temps, _ in self.template_sets:
            bad = [t for t in temps if t.count('{}') != 1]
            if bad:
                raise ValueError(f'templates need exactly one "{{}}": {bad}')


def object_phrase(names: Sequence[str], rng: np.random.Generator,
                  color: str | None = None, pattern: str | None = None,
                  cfg: DescriptionConfig = DescriptionConfig()) -> str:
    """A noun phrase for one object: ``[pattern] [colour] noun``.

    Args:
        names: the class name first, then its synonyms.
        color: colour word of the object, if known.
        pattern: pattern word of the object (e.g. ``'striped'``; empty or
            None for a plain one).
    """
    if not names:
        raise ValueError('a class needs at least one name')
    noun = names[0]
    if len(names) > 1 and rng.random() < cfg.synonym_prob:
        noun = names[1 + int(rng.integers(len(names) - 1))]
    words = []
    if color and rng.random() < cfg.attribute_prob:
        if pattern and rng.random() < cfg.pattern_prob:
            words.append(pattern)
        words.append(color)
    words.append(noun)
    return ' '.join(w for w in words if w)


def pick_template(rng: np.random.Generator,
                  cfg: DescriptionConfig = DescriptionConfig()) -> str:
    """One template from the weighted pools of ``cfg``."""
    weights = np.array([w for _, w in cfg.template_sets], dtype=np.float64)
    pool = cfg.template_sets[int(rng.choice(len(weights),
                                            p=weights / weights.sum()))][0]
    return pool[int(rng.integers(len(pool)))]


def describe_object(names: Sequence[str], rng: np.random.Generator,
                    color: str | None = None, pattern: str | None = None,
                    cfg: DescriptionConfig = DescriptionConfig()) -> str:
    """A templated description, e.g. ``'a bad photo of a red star.'``."""
    return pick_template(rng, cfg).format(
        object_phrase(names, rng, color, pattern, cfg))
