"""Contrastive training loop for a (tiny) CLIP on image-text pairs.

AdamW, linear warmup then cosine decay, a learnable logit scale initialised at
1/0.07 and clamped at 100 (Radford et al. 2021, Sec. 2.5), and the
multi-positive symmetric InfoNCE of :mod:`.loss`. Runs on CPU.

Determinism: the model is initialised under ``torch.manual_seed(seed)`` and
batch ``t`` is drawn from a generator seeded with ``(seed, t)``, so the data
order does not depend on how the run was split by resuming.
"""
from __future__ import annotations

import math
import os.path as osp
import time
from dataclasses import asdict, dataclass, field
from typing import Callable, Protocol

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from ...utils.io import torch_save_atomic
from ..wrapper import CLIPWrapper
from .loss import embedding_distill_loss, multi_positive_clip_loss
from .warm_start import is_text_param


@dataclass
class PairBatch:
    """One contrastive batch: model inputs, texts, positive keys (pairs
    with equal keys are positives of each other, :mod:`.loss`)."""

    images: torch.Tensor                # [B, 3, S, S] normalised
    texts: list[str]
    keys: torch.Tensor                  # [B] long
    sources: list[str] = field(default_factory=list)


class PairSampler(Protocol):
    """Anything that draws a :class:`PairBatch` from a generator, e.g.
    :class:`ovd_ext.shapes.tiny_clip.ShapesPairs`: the data side hands the
    trainer its image-text pairs."""

    def sample(self, clip: CLIPWrapper, batch_size: int,
               rng: np.random.Generator) -> PairBatch: ...


@dataclass
class TrainConfig:
    """Optimisation settings of :func:`train_clip`."""

    steps: int = 300
    batch_size: int = 256
    lr: float = 2e-3
    weight_decay: float = 0.1
    warmup_frac: float = 0.1
    min_lr_frac: float = 0.02
    betas: tuple[float, float] = (0.9, 0.98)
    eps: float = 1e-6
    grad_clip: float | None = 1.0
    init_logit_scale: float | None = 1 / 0.07   # None: keep the model's
    max_logit_scale: float = 100.0
    text_lr_mult: float = 1.0     # learning rate factor of the text tower
    distill_weight: float = 0.0   # weight of teacher embedding distillation
    seed: int = 0
    save_every: int = 100         # resume state every N steps (0: never)


def step_rng(seed: int, step: int) -> np.random.Generator:
    """The generator of training step ``step`` (data order, augmentation)."""
    return np.random.Generator(np.random.PCG64(
        np.random.SeedSequence([int(seed), int(step)])))


def lr_factor(step: int, cfg: TrainConfig) -> float:
    """Linear warmup over ``warmup_frac`` of the steps, then cosine decay to
    ``min_lr_frac`` of the peak learning rate."""
    warm = max(int(round(cfg.warmup_frac * cfg.steps)), 1)
    if step < warm:
        return (step + 1) / warm
    t = (step - warm) / max(cfg.steps - warm, 1)
    return cfg.min_lr_frac + (1 - cfg.min_lr_frac) * 0.5 * (
        1 + math.cos(math.pi * min(t, 1.0)))


def param_groups(model: nn.Module, weight_decay: float,
                 text_lr_mult: float = 1.0) -> list[dict]:
    """CLIP's split: weight decay on matrices / conv kernels only; none on
    gains, biases, embeddings and the logit scale. Text-tower parameters
    (everything outside ``visual.``) get ``lr * text_lr_mult``."""
    no_decay_names = ('logit_scale', 'embedding', 'positional')
    groups: dict[tuple[bool, bool], list[nn.Parameter]] = {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        decay = p.ndim >= 2 and not any(k in name for k in no_decay_names)
        groups.setdefault((decay, is_text_param(name)), []).append(p)
    return [dict(params=ps, weight_decay=weight_decay if decay else 0.0,
                 lr_mult=text_lr_mult if text else 1.0)
            for (decay, text), ps in sorted(groups.items())]


def contrastive_step(clip: CLIPWrapper, batch: PairBatch,
                     teacher: CLIPWrapper | None = None,
                     distill_weight: float = 0.0) -> torch.Tensor:
    """Loss of one batch (forward only; the model stays in its mode):
    multi-positive InfoNCE, plus ``distill_weight`` times the embedding
    distillation loss towards a frozen ``teacher``'s image embeddings of
    the same inputs (same input size and normalisation required)."""
    model = clip.model
    tokens = clip.tokenizer(batch.texts).to(clip.device)
    images = batch.images.to(clip.device)
    img = model.encode_image(images, normalize=True)
    txt = model.encode_text(tokens, normalize=True)
    loss = multi_positive_clip_loss(img, txt, model.logit_scale.exp(),
                                    batch.keys)
    if teacher is not None and distill_weight > 0:
        with torch.no_grad():
            target = teacher.model.encode_image(images, normalize=True)
        loss = loss + distill_weight * embedding_distill_loss(img, target)
    return loss


def train_clip(clip: CLIPWrapper, pairs: PairSampler, cfg: TrainConfig,
               work_dir: str | None = None, resume: bool = False,
               progress: bool = True,
               on_step: Callable[[int, float], None] | None = None,
               teacher: CLIPWrapper | None = None) -> dict:
    """Train ``clip`` (built with ``frozen=False``) in place.

    Args:
        clip: the model; its weights are the starting point (or replaced by
            the resume state). Frozen towers (``clip.frozen_towers``) keep
            their weights.
        pairs: batch sampler (e.g. OVD-Shapes'
            :class:`ovd_ext.shapes.tiny_clip.ShapesPairs`).
        cfg: optimisation settings.
        work_dir: where ``resume.pth`` is written every ``cfg.save_every``
            steps (None: never).
        resume: continue from ``work_dir/resume.pth`` if it exists.
        on_step: called with ``(step, loss)`` after every step.
        teacher: frozen CLIP whose image embeddings the model distills
            (weight ``cfg.distill_weight``; see :func:`contrastive_step`).

    Returns:
        ``losses`` (per step), ``final_loss`` (mean of the last 10% of
        steps), ``logit_scale``, ``train_seconds`` (wall, this process
        only), ``cpu_seconds`` (CPU time of this process, all threads),
        ``resumed_from`` (step) and ``total_seconds`` (including time before
        a resume).
    """
    if clip.frozen:
        raise ValueError('train_clip needs a CLIP with a trainable tower '
                         '(build it with frozen=False, or freeze one tower '
                         "only, e.g. frozen=('text',))")
    model = clip.model
    groups = param_groups(model, cfg.weight_decay, cfg.text_lr_mult)
    for g in groups:
        g['lr'] = cfg.lr * g.pop('lr_mult')
    opt = torch.optim.AdamW(groups, lr=cfg.lr, betas=cfg.betas, eps=cfg.eps)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: lr_factor(s, cfg))
    start, losses, before = 0, [], 0.0
    resume_path = osp.join(work_dir, 'resume.pth') if work_dir else None
    if resume and resume_path and osp.isfile(resume_path):
        state = torch.load(resume_path, map_location='cpu', weights_only=False)
        if state['cfg'] != asdict(cfg):
            raise ValueError(f'{resume_path} was written with other settings '
                             f'{state["cfg"]}; remove it or use them')
        model.load_state_dict(state['model'])
        opt.load_state_dict(state['optimizer'])
        sched.load_state_dict(state['scheduler'])
        start, losses = state['step'], state['losses']
        before = state['seconds']
    elif cfg.init_logit_scale is not None:
        with torch.no_grad():
            model.logit_scale.fill_(math.log(cfg.init_logit_scale))
    max_log_scale = math.log(cfg.max_logit_scale)
    clip.train()
    t0, c0 = time.perf_counter(), time.process_time()
    bar = tqdm(range(start, cfg.steps), initial=start, total=cfg.steps,
               desc=f'train {clip.name}', unit='step', disable=not progress)
    for step in bar:
        batch = pairs.sample(clip, cfg.batch_size, step_rng(cfg.seed, step))
        loss = contrastive_step(clip, batch, teacher, cfg.distill_weight)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.grad_clip:
            nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        sched.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0, max_log_scale)
        losses.append(loss.item())
        scale = model.logit_scale.detach().exp().item()
        bar.set_postfix(loss=f'{losses[-1]:.3f}', scale=f'{scale:.1f}',
                        lr=f'{sched.get_last_lr()[0]:.1e}')
        if on_step is not None:
            on_step(step, losses[-1])
        done = step + 1
        if resume_path and cfg.save_every and (
                done % cfg.save_every == 0 or done == cfg.steps):
            torch_save_atomic(resume_path, dict(
                model=model.state_dict(), optimizer=opt.state_dict(),
                scheduler=sched.state_dict(), step=done, losses=losses,
                cfg=asdict(cfg),
                seconds=before + time.perf_counter() - t0))
    clip.train(False)
    seconds = time.perf_counter() - t0
    cpu_seconds = time.process_time() - c0
    tail = losses[-max(len(losses) // 10, 1):] if losses else [float('nan')]
    return dict(losses=losses, final_loss=float(np.mean(tail)),
                logit_scale=model.logit_scale.detach().exp().item(),
                train_seconds=seconds, cpu_seconds=cpu_seconds,
                resumed_from=start,
                total_seconds=before + seconds)
