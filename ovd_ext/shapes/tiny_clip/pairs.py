"""Image-text pairs of the OVD-Shapes TRAIN split for tiny-CLIP training.

Three sources, mixed in every batch (DESIGN.md §4):

* ``crop``: a ground-truth object of ``instances_train.json`` cut out with
  box jitter, described from its class name and attributes (colour, pattern)
  in a template (:mod:`.descriptions`); key = class index;
* ``imagelabel``: an image of ``image_labels_train.json`` (one dominant,
  roughly centred object), a random window of it, described from its label
  only; key = class index;
* ``caption``: a whole train image (random window) with one of its captions
  from ``captions_train.json``; key = a per-image id (captions of one image
  are positives of each other's image,
  :mod:`ovd_ext.vlm.training.loss`).

All images are decoded once into memory (uint8). Validation images are never
read: an annotation file that lists a ``val/`` image is refused.
"""
from __future__ import annotations

import json
import os.path as osp
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import torch
from tqdm import tqdm

from ...utils.images import read_image
from ...vlm.training.augment import (JitterConfig, crop_resize, jitter_box,
                                     mirror_text, random_image_box)
from ...vlm.training.loop import PairBatch
from ...vlm.wrapper import CLIPWrapper
from .descriptions import DescriptionConfig, describe_object

ANNOTATION_FILES = {
    'crop': 'annotations/instances_train.json',
    'imagelabel': 'annotations/image_labels_train.json',
    'caption': 'annotations/captions_train.json',
}
CAPTION_KEY_OFFSET = 1_000_000      # caption keys never equal a class index


@dataclass
class _Crop:
    image: int
    box: np.ndarray                     # xyxy float32
    label: int
    color: str | None
    pattern: str | None


def _load_json(path: str) -> dict:
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'{path} not found: generate OVD-Shapes first with '
            '`python tools/shapes/make_ovd_shapes.py --out <root>`')
    with open(path) as f:
        return json.load(f)


def _read_rgb(path: str) -> torch.Tensor:
    """CHW uint8 RGB tensor (:func:`ovd_ext.utils.read_image`: an error
    naming the file if it is missing, corrupt or truncated)."""
    return torch.from_numpy(read_image(path, channel_order='rgb')
                            ).permute(2, 0, 1)


class ShapesPairs:
    """Image-text pair sampler over an OVD-Shapes root (train split only).

    Args:
        root: dataset root with ``images/`` and ``annotations/``.
        classes: class names in category-id order (id ``k`` is
            ``classes[k - 1]``).
        synonyms: optional extra names per class (first name = class name).
        pattern_words: pattern key -> word (e.g. ``'stripes' -> 'striped'``).
        mix: sampling weight of each source (``crop``, ``imagelabel``,
            ``caption``); a weight of 0 skips loading that source.
        jitter, descriptions: augmentation and phrasing settings.
        progress: tqdm while decoding images.
    """

    def __init__(self, root: str, classes: Sequence[str],
                 synonyms: Mapping[str, Sequence[str]] | None = None,
                 pattern_words: Mapping[str, str] | None = None,
                 mix: Mapping[str, float] | None = None,
                 jitter: JitterConfig = JitterConfig(),
                 descriptions: DescriptionConfig = DescriptionConfig(),
                 progress: bool = True) -> None:
        self.root = root
        self.classes = list(classes)
        syn = synonyms or {}
        self.names = [[c] + [s for s in syn.get(c, ()) if s != c]
                      for c in self.classes]
        self.pattern_words = dict(pattern_words or {})
        self.mix = dict(mix or {'crop': 0.65, 'imagelabel': 0.15,
                                'caption': 0.2})
        unknown = set(self.mix) - set(ANNOTATION_FILES)
        if unknown or sum(self.mix.values()) <= 0:
            raise ValueError(f'mix needs positive weights over '
                             f'{sorted(ANNOTATION_FILES)}, got {self.mix}')
        self.jitter, self.descriptions = jitter, descriptions
        self.files: list[str] = []
        self.images: list[torch.Tensor] = []
        self._index: dict[str, int] = {}
        self.crops: list[_Crop] = []
        self.imagelabels: list[tuple[int, int]] = []
        self.captions: list[tuple[int, str]] = []
        self.skipped = 0
        anns = {s: _load_json(osp.join(root, f))
                for s, f in ANNOTATION_FILES.items() if self.mix.get(s, 0)}
        self._collect(anns)
        self._decode(progress)

    # -- loading ---------------------------------------------------------
    def _image_idx(self, img: dict, source: str) -> int:
        name = img['file_name']
        if name.startswith('val/') or '/val/' in name:
            raise ValueError(f'{source}: image {img["id"]} ({name}) is a '
                             'validation image; tiny-CLIP trains on the '
                             'train split only')
        if name not in self._index:
            self._index[name] = len(self.files)
            self.files.append(name)
        return self._index[name]

    def _label(self, cat_id: int, where: str) -> int:
        if not 1 <= cat_id <= len(self.classes):
            raise ValueError(f'{where}: category_id {cat_id} outside '
                             f'1..{len(self.classes)}')
        return cat_id - 1

    def _collect(self, anns: dict[str, dict]) -> None:
        for source, data in anns.items():
            images = {im['id']: im for im in data['images']}
            labels: dict[int, list[int]] = {}
            for a in data['annotations']:
                img = images.get(a['image_id'])
                if img is None:
                    raise ValueError(
                        f'{ANNOTATION_FILES[source]}: annotation '
                        f'{a.get("id")} refers to unknown image '
                        f'{a["image_id"]}')
                if source == 'crop':
                    self._add_crop(img, a)
                elif source == 'caption':
                    self.captions.append((self._image_idx(img, source),
                                          a['caption']))
                else:
                    labels.setdefault(img['id'], []).append(a['category_id'])
            if source == 'imagelabel':
                for img in data['images']:
                    ids = img.get('pos_category_ids') or labels.get(img['id'])
                    if ids and len(set(ids)) == 1:   # one labelled object
                        self.imagelabels.append((
                            self._image_idx(img, source),
                            self._label(ids[0], f'image {img["id"]}')))
                    else:
                        self.skipped += 1
        for source, items in (('crop', self.crops),
                              ('imagelabel', self.imagelabels),
                              ('caption', self.captions)):
            if self.mix.get(source, 0) and not items:
                path = osp.join(self.root, ANNOTATION_FILES[source])
                raise ValueError(f'no {source} pairs in {path}')

    def _add_crop(self, img: dict, ann: dict) -> None:
        x, y, w, h = ann['bbox']
        if w < 1 or h < 1:
            self.skipped += 1
            return
        attrs = ann.get('attributes', {})
        self.crops.append(_Crop(
            self._image_idx(img, 'crop'),
            np.array([x, y, x + w, y + h], np.float32),
            self._label(ann['category_id'],
                        f'{ANNOTATION_FILES["crop"]} image {img["id"]}'),
            attrs.get('color'),
            self.pattern_words.get(attrs.get('pattern', ''))))

    def _decode(self, progress: bool) -> None:
        for name in tqdm(self.files, desc='decode images', unit='img',
                         disable=not progress):
            self.images.append(_read_rgb(osp.join(self.root, 'images', name)))

    def __repr__(self) -> str:
        return (f'ShapesPairs({self.root!r}: {len(self.crops)} crops, '
                f'{len(self.imagelabels)} image labels, {len(self.captions)} '
                f'captions over {len(self.images)} images, mix={self.mix})')

    # -- pairs -----------------------------------------------------------
    def _hw(self, idx: int) -> tuple[int, int]:
        im = self.images[idx]
        return int(im.shape[1]), int(im.shape[2])

    def crop_pair(self, clip: CLIPWrapper, i: int, rng: np.random.Generator
                  ) -> tuple[torch.Tensor, str, int]:
        """Object crop ``i`` (jittered, maybe flipped), its description and
        its class index."""
        c = self.crops[i]
        box = jitter_box(c.box, self._hw(c.image), rng, self.jitter)
        flip = bool(rng.random() < self.jitter.flip_prob)
        text = describe_object(self.names[c.label], rng, c.color, c.pattern,
                               self.descriptions)
        return crop_resize(clip, self.images[c.image], box, flip), text, \
            c.label

    def imagelabel_pair(self, clip: CLIPWrapper, i: int,
                        rng: np.random.Generator
                        ) -> tuple[torch.Tensor, str, int]:
        """A window of image-label image ``i``, a label description, the
        class index."""
        idx, label = self.imagelabels[i]
        box = random_image_box(self._hw(idx), rng, self.jitter)
        flip = bool(rng.random() < self.jitter.flip_prob)
        text = describe_object(self.names[label], rng, None, None,
                               self.descriptions)
        return crop_resize(clip, self.images[idx], box, flip), text, label

    def caption_pair(self, clip: CLIPWrapper, i: int,
                     rng: np.random.Generator
                     ) -> tuple[torch.Tensor, str, int]:
        """A window of a train image with caption ``i`` (left/right swapped
        when flipped) and the image's key."""
        idx, text = self.captions[i]
        box = random_image_box(self._hw(idx), rng, self.jitter)
        flip = bool(rng.random() < self.jitter.flip_prob)
        text = mirror_text(text) if flip else text
        return (crop_resize(clip, self.images[idx], box, flip), text,
                CAPTION_KEY_OFFSET + idx)

    def counts(self, batch_size: int) -> dict[str, int]:
        """Pairs per source in a batch of ``batch_size`` (largest remainder
        rounding of the mix weights)."""
        total = sum(self.mix.values())
        raw = {s: batch_size * w / total for s, w in self.mix.items()}
        out = {s: int(np.floor(v)) for s, v in raw.items()}
        rest = batch_size - sum(out.values())
        for s in sorted(raw, key=lambda s: out[s] - raw[s])[:rest]:
            out[s] += 1
        return out

    def sample(self, clip: CLIPWrapper, batch_size: int,
               rng: np.random.Generator) -> PairBatch:
        """A mixed batch; every random choice comes from ``rng``."""
        makers = {'crop': (self.crop_pair, len(self.crops)),
                  'imagelabel': (self.imagelabel_pair, len(self.imagelabels)),
                  'caption': (self.caption_pair, len(self.captions))}
        images, texts, keys, sources = [], [], [], []
        for source, n in self.counts(batch_size).items():
            make, size = makers[source]
            for i in rng.integers(size, size=n):
                image, text, key = make(clip, int(i), rng)
                images.append(image)
                texts.append(text)
                keys.append(key)
                sources.append(source)
        return PairBatch(torch.stack(images), texts,
                         torch.tensor(keys, dtype=torch.long), sources)
