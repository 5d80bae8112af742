"""CLIP as an mmdet ``MODELS`` component: ``type='OpenCLIP'``.

A detector, a teacher or a pretrainer gets its CLIP from its config::

    clip=dict(type='OpenCLIP', name='RN50-quickgelu',
              checkpoint='checkpoints/clip/RN50.pt',
              frozen=('image', 'text'), precision='fp32')

    # an architecture given by an open_clip model-config json:
    clip=dict(type='OpenCLIP', model_config='configs/clip/my-rn.json',
              checkpoint='checkpoints/clip/my-rn.pt', frozen=('text', ))

and builds it with ``MODELS.build(cfg.clip)``. The module IS a
:class:`~ovd_ext.vlm.wrapper.CLIPWrapper`, so every ``ovd_ext.vlm`` function
(``encode_text``, ``encode_image``, ``dense_features``, ``pool_regions``,
``encode_crops``, ...) takes it as it is. It builds exactly what
:func:`~ovd_ext.vlm.build_clip` builds (both go through
:func:`~ovd_ext.vlm.builder.create_clip_model`); weights come from the local
``checkpoint`` only and are kept by ``init_weights``.
"""
from __future__ import annotations

import os.path as osp
from typing import Any, Mapping

from mmdet.registry import MODELS

from .builder import (create_clip_model, register_model_configs,
                      set_input_layout)
from .image_weights import load_module_weights
from .wrapper import CLIPWrapper, FrozenSpec

#: keys of a config's ``clip`` dict that describe its use, not the model
#: (``templates``: the prompt set its vocabulary is embedded with)
USE_KEYS = ('templates', )


def resolve_model_config(name: str | None, model_config: str | None) -> str:
    """The open_clip architecture name of an ``OpenCLIP`` config: ``name``,
    or the stem of ``model_config`` after registering that json with
    open_clip (both given: they must agree)."""
    if model_config is None:
        if not name:
            raise ValueError('OpenCLIP needs name=<open_clip architecture> '
                             'or model_config=<path of a model-config json>')
        return name
    path = str(model_config)
    if not osp.isfile(path) or not path.endswith('.json'):
        raise FileNotFoundError(
            f'OpenCLIP model_config {osp.abspath(path)} is not an existing '
            '.json file (an open_clip model config with embed_dim, '
            'vision_cfg and text_cfg; see ovd_ext/vlm/model_configs)')
    (stem, ) = register_model_configs(path)
    if name and name != stem:
        raise ValueError(
            f'OpenCLIP name={name!r} but model_config {path} defines '
            f'{stem!r} (open_clip names an architecture by its file stem); '
            'give one of them')
    return stem


@MODELS.register_module()
class OpenCLIP(CLIPWrapper):
    """A CLIP built from config (see module doc).

    Args:
        name: open_clip architecture name (``open_clip.list_models()`` or a
            config of ``ovd_ext/vlm/model_configs``).
        checkpoint: local weights file (None: random weights, tests only).
            A missing file raises ``FileNotFoundError`` naming the path and
            how to obtain the file.
        model_config: path of an open_clip model-config json, instead of (or
            agreeing with) ``name``.
        frozen: frozen towers: a subset of ``('image', 'text')``, or
            True / False for both / none.
        precision: open_clip precision ('fp32', 'bf16', 'fp16', ...).
        tag: the open_clip pretrained tag the weights were published as
            (preprocessing constants and QuickGELU flag; nothing is
            downloaded).
        image_checkpoint: a file whose ``image_prefix`` keys replace the
            image tower's weights after ``checkpoint`` is loaded (e.g. a
            RegionCLIP-pretrained student: ``image_prefix=
            'student.model.visual.'``); strict, see
            :mod:`~ovd_ext.vlm.image_weights`.
        save_frozen: keep the frozen towers' weights in ``state_dict()``.
            Default False: they are rebuilt from ``checkpoint``, so a
            detector or pretrainer that holds a frozen CLIP (teacher) saves
            only what it trains.
        init_cfg: must stay None: the weights come from ``checkpoint``.
    """

    def __init__(self, name: str | None = None,
                 checkpoint: str | None = None,
                 model_config: str | None = None,
                 frozen: FrozenSpec = ('image', 'text'),
                 precision: str = 'fp32', tag: str | None = None,
                 image_checkpoint: str | None = None,
                 image_prefix: str = 'visual.',
                 save_frozen: bool = False,
                 init_cfg: dict | None = None) -> None:
        if init_cfg is not None:
            raise ValueError(
                'OpenCLIP takes its weights from checkpoint=<local file>; '
                f'init_cfg={init_cfg!r} would be ignored, remove it')
        arch = resolve_model_config(name, model_config)
        model, tokenizer, ckpt, mean, std = create_clip_model(
            arch, checkpoint, tag, precision)
        if image_checkpoint is not None:
            load_module_weights(model.visual, image_checkpoint, image_prefix)
        super().__init__(model, tokenizer, arch, ckpt, mean=mean, std=std,
                         frozen=frozen, save_frozen=save_frozen)
        self.image_checkpoint = image_checkpoint
        self.precision = precision
        set_input_layout(self, precision)


def build_clip_from_cfg(clip_cfg: Mapping[str, Any],
                        **overrides: Any) -> OpenCLIP:
    """Build the CLIP a config's ``clip`` dict describes, e.g.
    ``dict(name='RN50-quickgelu', checkpoint=..., templates='imagenet80')``
    (``type`` defaults to ``'OpenCLIP'``; :data:`USE_KEYS` are not model
    arguments and are left out). ``overrides`` that are not None replace
    the dict's entries (e.g. a tool's ``--checkpoint``)."""
    args = {k: v for k, v in dict(clip_cfg).items() if k not in USE_KEYS}
    args.update({k: v for k, v in overrides.items() if v is not None})
    args.setdefault('type', 'OpenCLIP')
    return MODELS.build(args)
