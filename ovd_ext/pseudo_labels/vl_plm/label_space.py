"""Label spaces for scoring regions with CLIP (VL-PLM supplement B.3).

The target classes (novel classes in OVD, all classes in SSOD) always come
first. Extra classes model the background: they take part in the softmax of
Eq. 5 and a region whose argmax is an extra class is dropped.

==================  ======================================================
``'novel'``         target classes only (the paper's default: "take the
                    names of novel categories as the input texts", Sec.
                    3.3; its Table 11 uses tau=0.8 for it)
``'novel+bg'``      plus the text ``"background"``
``'novel+base'``    plus the base classes (the dataset's other classes)
``'novel+base+bg'`` plus both
==================  ======================================================

"novel" means "the target classes" and "base" means "the other classes of the
dataset", so the names also apply when the targets are not novel classes.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch
import torch.nn.functional as F

from ...vlm.class_names import ClassList, clean_name
from ...vlm.text import encode_text
from ...vlm.vocabulary import load_class_embeddings

LABEL_SPACES = ('novel', 'novel+bg', 'novel+base', 'novel+base+bg')
DEFAULT_LABEL_SPACE = 'novel'
#: The background text of supplement B.3 ("The text 'background' is used as
#: one additional background category").
BACKGROUND_TEXT = 'background'


@dataclass
class LabelSpace:
    """Names of the label space (targets first) and how many are targets."""
    names: list[str]
    prompts: list[list[str]]
    num_targets: int

    @property
    def targets(self) -> list[str]:
        return self.names[:self.num_targets]

    @property
    def extras(self) -> list[str]:
        return self.names[self.num_targets:]


def build_label_space(classes: ClassList, targets: Sequence[str],
                      space: str = DEFAULT_LABEL_SPACE,
                      bg_text: str = BACKGROUND_TEXT) -> LabelSpace:
    """The label space ``space`` (see module doc) over a dataset's classes.

    Args:
        classes: all dataset classes with their prompt synonyms.
        targets: names of the classes pseudo labels are made for, each one of
            ``classes.names``; kept in dataset order.
        space: one of :data:`LABEL_SPACES`.
        bg_text: the background text for the ``+bg`` spaces.
    """
    if space not in LABEL_SPACES:
        raise ValueError(f'unknown label space {space!r}; one of '
                         f'{LABEL_SPACES}')
    unknown = [t for t in targets if t not in classes.names]
    if unknown:
        raise ValueError(f'target class {unknown[0]!r} is not a dataset class '
                         f'(dataset has {len(classes)} classes, e.g. '
                         f'{classes.names[:5]})')
    if not targets:
        raise ValueError('no target classes given')
    tset = set(targets)
    syn = dict(zip(classes.names, classes.synonyms))
    names = [n for n in classes.names if n in tset]
    num_targets = len(names)
    if '+base' in space:
        names += [n for n in classes.names if n not in tset]
    prompts = [syn[n] for n in names]
    if space.endswith('+bg'):
        if bg_text in names:
            raise ValueError(f'background text {bg_text!r} is a class name')
        names.append(bg_text)
        prompts.append([clean_name(bg_text)])
    return LabelSpace(names, prompts, num_targets)


def label_space_embeddings(clip, space: LabelSpace,
                           templates: str | Sequence[str] = 'imagenet80',
                           vocabulary: str | None = None) -> torch.Tensor:
    """``[C, D]`` unit text embeddings of the label space (Eq. 5's
    ``E_txt(Categories)``): rows of a saved ``vocabulary`` (.npy, DESIGN.md
    §3) where it has the class, else the prompt ensemble of
    :func:`ovd_ext.vlm.encode_text` (always for the background text)."""
    rows: dict[str, torch.Tensor] = {}
    if vocabulary is not None:
        emb, names = load_class_embeddings(vocabulary)
        if emb.shape[1] != clip.embed_dim:
            raise ValueError(f'{vocabulary} has D={emb.shape[1]} but CLIP '
                             f'{clip.name} embeds to D={clip.embed_dim}')
        rows = {n: torch.from_numpy(emb[i]) for i, n in enumerate(names)}
    missing = [i for i, n in enumerate(space.names) if n not in rows]
    if missing:
        enc = encode_text(clip, [space.prompts[i] for i in missing], templates)
        rows.update({space.names[i]: enc[j].cpu()
                     for j, i in enumerate(missing)})
    out = torch.stack([rows[n].float() for n in space.names])
    return F.normalize(out, dim=-1).to(clip.device)
