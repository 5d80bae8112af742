"""Class text embeddings by prompt ensembling."""
from __future__ import annotations

import os.path as osp
from typing import Iterable, Sequence

import torch
import torch.nn.functional as F
from tqdm import tqdm

from .wrapper import CLIPWrapper
from .class_names import ClassList
from .prompts import get_templates, templates_tag
from .vocabulary import file_sha256, save_class_embeddings

ClassName = str | Sequence[str]


def as_synonyms(name: ClassName) -> list[str]:
    """One class as a non-empty list of names (synonyms)."""
    names = [name] if isinstance(name, str) else list(name)
    names = [n.strip() for n in names if n and n.strip()]
    if not names:
        raise ValueError(f'class given without any name: {name!r}')
    return names


def encode_prompts(clip: CLIPWrapper, prompts: Sequence[str],
                   batch_size: int = 256, progress: bool = False,
                   desc: str = 'text') -> torch.Tensor:
    """Encode raw prompts in batches; returns L2-normalised rows [n, D]."""
    if batch_size < 1:
        raise ValueError(f'batch_size must be >= 1, got {batch_size}')
    out = []
    starts: Iterable[int] = range(0, len(prompts), batch_size)
    if progress:
        starts = tqdm(starts, desc=desc, unit='batch')
    with clip.grad_context('text'):
        for s in starts:
            tokens = clip.tokenizer(list(prompts[s:s + batch_size]))
            emb = clip.model.encode_text(tokens.to(clip.device))
            out.append(F.normalize(emb.float(), dim=-1))
    if not out:
        return torch.zeros(0, clip.embed_dim, device=clip.device)
    return torch.cat(out)


def encode_text(clip: CLIPWrapper, class_names: Sequence[ClassName],
                templates: str | Sequence[str] = 'imagenet80',
                batch_size: int = 256, progress: bool = False) -> torch.Tensor:
    """Prompt-ensembled class embeddings ``[C, D]`` (unit rows, float32).

    For each class and each of its names ``s``: ``e_s = norm(mean_t
    norm(f(t.format(s))))`` over templates ``t``; the class embedding is
    ``norm(mean_s e_s)``. This is the CLIP / ViLD prompt ensemble (VL-PLM
    Sec. 3, RegionCLIP concept embeddings, DITO Sec. 3.3).

    Args:
        clip: from :func:`build_clip`.
        class_names: one entry per class: a name, or a list of synonyms
            (e.g. ``['sofa', 'couch']``) whose embeddings are averaged.
            Strings are used as given (no splitting on '/' or ',').
        templates: ``'imagenet80'``, ``'short'``, ``'single'`` or a list of
            strings with one ``{}``.
        batch_size: prompts per text-encoder call.
        progress: show a tqdm bar.
    """
    temps = get_templates(templates)
    classes = [as_synonyms(c) for c in class_names]
    if not classes:
        return torch.zeros(0, clip.embed_dim, device=clip.device)
    prompts = [t.format(s) for syn in classes for s in syn for t in temps]
    emb = encode_prompts(clip, prompts, batch_size, progress)
    emb = emb.view(-1, len(temps), emb.shape[-1])
    per_name = F.normalize(emb.mean(dim=1), dim=-1)      # [sum synonyms, D]
    counts = torch.tensor([len(s) for s in classes], device=emb.device)
    owner = torch.repeat_interleave(
        torch.arange(len(classes), device=emb.device), counts)
    summed = torch.zeros(len(classes), emb.shape[-1], device=emb.device)
    summed.index_add_(0, owner, per_name)
    return F.normalize(summed / counts[:, None], dim=-1)


def embed_vocabulary(clip: CLIPWrapper, classes: ClassList, out: str,
                     templates: str | Sequence[str] = 'imagenet80',
                     batch_size: int = 256,
                     progress: bool = False) -> torch.Tensor:
    """Encode a :class:`~ovd_ext.vlm.class_names.ClassList` and write it as
    a vocabulary (``out`` .npy + sidecar json, DESIGN.md §3)."""
    emb = encode_text(clip, classes.synonyms, templates, batch_size, progress)
    sha = (file_sha256(clip.checkpoint)
           if clip.checkpoint and osp.isfile(clip.checkpoint) else None)
    save_class_embeddings(out, emb.cpu().numpy(), classes.names,
                          model=f'{clip.name}:{clip.checkpoint}',
                          prompts=templates_tag(templates),
                          weights_sha256=sha)
    return emb
