"""Prompt templates for class text embeddings.

``IMAGENET80``: the 80 ImageNet prompt templates published with CLIP (Radford
et al. 2021, prompt-engineering notebook) and used by ViLD / VL-PLM / DITO for
detection vocabularies.

``SHORT``: 6 plain templates for quick runs and small (tiny) text encoders,
whose training captions are simple sentences: the generic CLIP prompt in two
articles, the bare noun phrase, ViLD's scene phrasing, and two size words that
fit objects in detection crops.
"""
from __future__ import annotations

from typing import Sequence

IMAGENET80: tuple[str, ...] = (
    'a bad photo of a {}.',
    'a photo of many {}.',
    'a sculpture of a {}.',
    'a photo of the hard to see {}.',
    'a low resolution photo of the {}.',
    'a rendering of a {}.',
    'graffiti of a {}.',
    'a bad photo of the {}.',
    'a cropped photo of the {}.',
    'a tattoo of a {}.',
    'the embroidered {}.',
    'a photo of a hard to see {}.',
    'a bright photo of a {}.',
    'a photo of a clean {}.',
    'a photo of a dirty {}.',
    'a dark photo of the {}.',
    'a drawing of a {}.',
    'a photo of my {}.',
    'the plastic {}.',
    'a photo of the cool {}.',
    'a close-up photo of a {}.',
    'a black and white photo of the {}.',
    'a painting of the {}.',
    'a painting of a {}.',
    'a pixelated photo of the {}.',
    'a sculpture of the {}.',
    'a bright photo of the {}.',
    'a cropped photo of a {}.',
    'a plastic {}.',
    'a photo of the dirty {}.',
    'a jpeg corrupted photo of a {}.',
    'a blurry photo of the {}.',
    'a photo of the {}.',
    'a good photo of the {}.',
    'a rendering of the {}.',
    'a {} in a video game.',
    'a photo of one {}.',
    'a doodle of a {}.',
    'a close-up photo of the {}.',
    'a photo of a {}.',
    'the origami {}.',
    'the {} in a video game.',
    'a sketch of a {}.',
    'a doodle of the {}.',
    'a origami {}.',
    'a low resolution photo of a {}.',
    'the toy {}.',
    'a rendition of the {}.',
    'a photo of the clean {}.',
    'a photo of a large {}.',
    'a rendition of a {}.',
    'a photo of a nice {}.',
    'a photo of a weird {}.',
    'a blurry photo of a {}.',
    'a cartoon {}.',
    'art of a {}.',
    'a sketch of the {}.',
    'a embroidered {}.',
    'a pixelated photo of a {}.',
    'itap of the {}.',
    'a jpeg corrupted photo of the {}.',
    'a good photo of a {}.',
    'a plushie {}.',
    'a photo of the nice {}.',
    'a photo of the small {}.',
    'a photo of the weird {}.',
    'the cartoon {}.',
    'art of the {}.',
    'a drawing of the {}.',
    'a photo of the large {}.',
    'a black and white photo of a {}.',
    'the plushie {}.',
    'a dark photo of a {}.',
    'itap of a {}.',
    'graffiti of the {}.',
    'a toy {}.',
    'itap of my {}.',
    'a photo of a cool {}.',
    'a photo of a small {}.',
    'a tattoo of the {}.',
)

SHORT: tuple[str, ...] = (
    'a photo of a {}.',
    'a photo of the {}.',
    'a {}.',
    'there is a {} in the scene.',
    'a photo of a small {}.',
    'a photo of a large {}.',
)

TEMPLATE_SETS: dict[str, tuple[str, ...]] = {
    'imagenet80': IMAGENET80,
    'short': SHORT,
    'single': ('a photo of a {}.',),
}


def get_templates(templates: str | Sequence[str]) -> list[str]:
    """Resolve a template-set name (``'imagenet80'``, ``'short'``,
    ``'single'``) or an explicit list; every template must contain one ``{}``.
    """
    if isinstance(templates, str):
        if templates not in TEMPLATE_SETS:
            raise ValueError(f'unknown template set {templates!r}; choose one '
                             f'of {sorted(TEMPLATE_SETS)} or pass a list')
        return list(TEMPLATE_SETS[templates])
    out = list(templates)
    if not out:
        raise ValueError('empty template list')
    bad = [t for t in out if t.count('{}') != 1]
    if bad:
        raise ValueError(f'templates need exactly one "{{}}": {bad}')
    return out


def templates_tag(templates: str | Sequence[str]) -> str:
    """A short description of the templates for a vocabulary sidecar."""
    if isinstance(templates, str):
        return templates
    return '|'.join(templates)
