"""The CLIP module every ``ovd_ext.vlm`` function takes: an open_clip model
with its tokenizer, preprocessing constants and per-tower freezing.

Towers: ``'image'`` is ``model.visual``; ``'text'`` is everything else of the
open_clip model (token / positional embeddings, transformer, ``ln_final``,
``text_projection`` and ``logit_scale``), the same split as
:func:`ovd_ext.vlm.training.warm_start.is_text_param`.
"""
from __future__ import annotations

import contextlib
from typing import Iterable, Sequence, Union

import torch
from mmengine.model import BaseModule
from open_clip.modified_resnet import ModifiedResNet
from open_clip.transformer import VisionTransformer
from torch import nn

from ..utils.rebuilt_weights import RebuiltWeightsMixin

#: The towers of a CLIP, in this order everywhere.
TOWERS = ('image', 'text')
#: Parameter / child name prefix of the image tower in an open_clip model.
IMAGE_TOWER_PREFIX = 'visual.'

FrozenSpec = Union[bool, str, Sequence[str], None]


def tower_of(param_name: str) -> str:
    """``'image'`` or ``'text'``: the tower an open_clip model parameter
    (``model.named_parameters()`` name) belongs to."""
    return 'image' if param_name.startswith(IMAGE_TOWER_PREFIX) else 'text'


def frozen_towers(frozen: FrozenSpec) -> tuple[str, ...]:
    """Normalise a ``frozen`` argument: ``True`` (both towers), ``False`` /
    ``None`` (none), a tower name or a sequence of tower names."""
    if frozen is True:
        return TOWERS
    if frozen is False or frozen is None:
        return ()
    names = (frozen,) if isinstance(frozen, str) else tuple(frozen)
    bad = [t for t in names if t not in TOWERS]
    if bad:
        raise ValueError(f'frozen={frozen!r}: unknown tower(s) {bad}; use '
                         f'True, False or a subset of {TOWERS}')
    return tuple(t for t in TOWERS if t in names)


class CLIPWrapper(RebuiltWeightsMixin, BaseModule):
    """An open_clip model with its tokenizer and preprocessing constants.

    Attributes:
        model: the open_clip ``CLIP`` / ``CustomTextCLIP`` module.
        tokenizer: callable ``list[str] -> LongTensor [n, context_length]``.
        name: open_clip architecture name.
        checkpoint: the file the weights came from (None: random init).
        image_size: model input size ``(H, W)``.
        mean, std: per-channel normalisation for RGB in [0, 1] (buffers).
        kind: ``'resnet'`` (ModifiedResNet), ``'vit'`` (VisionTransformer)
            or ``'other'`` (e.g. timm towers; no dense features).
        frozen_towers: the frozen towers (subset of :data:`TOWERS`): their
            parameters have ``requires_grad=False``, they stay in eval mode
            on ``train()`` (BatchNorm statistics fixed) and the ``encode_*``
            functions run them without autograd.
        frozen: True when every tower is frozen.
        save_frozen: when False, ``state_dict()`` leaves out the frozen
            towers' parameters and buffers (they are rebuilt from
            ``checkpoint``) and loading does not miss them.

    Its weights come from the checkpoint file at construction, so
    :meth:`init_weights` (called by mmengine on a model that holds this
    module) leaves them alone.
    """

    def __init__(self, model: nn.Module, tokenizer, name: str,
                 checkpoint: str | None, mean: Sequence[float],
                 std: Sequence[float], frozen: FrozenSpec = True,
                 save_frozen: bool = True) -> None:
        super().__init__(init_cfg=None)
        self.save_frozen = save_frozen
        self.model = model
        self.tokenizer = tokenizer
        self.name = name
        self.checkpoint = checkpoint
        size = model.visual.image_size
        self.image_size: tuple[int, int] = (
            (int(size), int(size)) if isinstance(size, int) else
            (int(size[0]), int(size[1])))
        self.register_buffer('mean', torch.tensor(mean, dtype=torch.float32),
                             persistent=False)
        self.register_buffer('std', torch.tensor(std, dtype=torch.float32),
                             persistent=False)
        visual = model.visual
        self.kind = ('resnet' if isinstance(visual, ModifiedResNet) else
                     'vit' if isinstance(visual, VisionTransformer) else
                     'other')
        self.frozen_towers = frozen_towers(frozen)
        for pname, p in model.named_parameters():
            if tower_of(pname) in self.frozen_towers:
                p.requires_grad_(False)
        self.train(False)

    @property
    def frozen(self) -> bool:
        """Every tower is frozen (nothing of this CLIP trains)."""
        return len(self.frozen_towers) == len(TOWERS)

    def is_frozen(self, tower: str) -> bool:
        """Whether ``tower`` (``'image'`` / ``'text'``) is frozen."""
        if tower not in TOWERS:
            raise ValueError(f'unknown tower {tower!r}; one of {TOWERS}')
        return tower in self.frozen_towers

    def tower_modules(self, tower: str) -> Iterable[nn.Module]:
        """The direct children of ``model`` that make up ``tower`` (the
        text tower's loose parameters, e.g. ``logit_scale``, belong to the
        model itself)."""
        for child_name, child in self.model.named_children():
            if tower_of(child_name + '.') == tower:
                yield child

    @property
    def visual(self) -> nn.Module:
        """The image tower (``model.visual``)."""
        return self.model.visual

    @property
    def embed_dim(self) -> int:
        """Dimension D of the joint image-text embedding space."""
        return int(self.model.visual.output_dim)

    @property
    def feature_stride(self) -> int:
        """Input pixels per cell of the default dense map (RN ``layer4``:
        32, ViT: the patch size); see :func:`ovd_ext.vlm.dense_stride`."""
        if self.kind == 'resnet':
            return 32
        if self.kind == 'vit':
            return int(self.model.visual.patch_size[0])
        raise NotImplementedError(
            f'{self.name}: no dense features for a '
            f'{type(self.model.visual).__name__} image tower')

    @property
    def device(self) -> torch.device:
        return self.mean.device

    @property
    def dtype(self) -> torch.dtype:
        """Dtype the image tower expects its input in."""
        conv = getattr(self.visual, 'conv1', None)
        if isinstance(conv, nn.Conv2d):
            return conv.weight.dtype
        return next(self.visual.parameters()).dtype

    @property
    def channels_last(self) -> bool:
        """The image tower's convolutions are in NHWC layout (see
        :func:`ovd_ext.vlm.build_clip`); inputs are then passed in the same
        layout."""
        conv = getattr(self.visual, 'conv1', None)
        return isinstance(conv, nn.Conv2d) and conv.weight.ndim == 4 and \
            conv.weight.is_contiguous(memory_format=torch.channels_last) \
            and not conv.weight.is_contiguous()

    def grad_context(self, tower: str | None = None):
        """``torch.no_grad()`` when ``tower`` is frozen (``None``: when the
        whole CLIP is frozen), else a no-op context."""
        frozen = self.frozen if tower is None else self.is_frozen(tower)
        return torch.no_grad() if frozen else contextlib.nullcontext()

    def train(self, mode: bool = True) -> 'CLIPWrapper':
        """Switch mode; frozen towers always stay in eval mode (a fully
        frozen wrapper stays in eval mode as a whole)."""
        super().train(False if self.frozen else mode)
        for tower in self.frozen_towers:
            for child in self.tower_modules(tower):
                child.train(False)
        return self

    def _frozen_keys(self, prefix: str) -> set[str]:
        """State-dict keys (under ``prefix``) of the frozen towers."""
        keys = set()
        for tower in self.frozen_towers:
            for child_name, child in self.model.named_children():
                if tower_of(child_name + '.') == tower:
                    keys.update(f'{prefix}model.{child_name}.{k}'
                                for k in child.state_dict())
            if tower == 'text':
                keys.update(f'{prefix}model.{n}' for n, _ in
                            self.model.named_parameters(recurse=False))
                keys.update(f'{prefix}model.{n}' for n, _ in
                            self.model.named_buffers(recurse=False))
        return keys

    def rebuilt_keys(self, prefix: str, keys) -> set[str]:
        """The frozen towers' keys unless ``save_frozen``: they come back
        from ``checkpoint`` (:class:`RebuiltWeightsMixin`)."""
        if self.save_frozen:
            return set()
        return self._frozen_keys(prefix) & set(keys)

    def init_weights(self) -> None:
        """Nothing to initialise: the weights were loaded from
        ``checkpoint`` (or deliberately left random) at construction, and
        re-initialising them would silently discard a loaded CLIP."""
        self._is_init = True

    def extra_repr(self) -> str:
        return (f'name={self.name!r}, checkpoint={self.checkpoint!r}, '
                f'kind={self.kind}, image_size={self.image_size}, '
                f'embed_dim={self.embed_dim}, '
                f'frozen_towers={self.frozen_towers}')
