"""Build an open_clip model from a name and a LOCAL checkpoint file.

This is the only place in ``ovd_ext`` that constructs a CLIP: the plain
function :func:`build_clip` and the registered mmdet module
:class:`~ovd_ext.vlm.openclip.OpenCLIP` both go through
:func:`create_clip_model`. Nothing here ever reaches a model hub: weights
come from a file path, and a missing file is an error that says where the
file should be and how to obtain it.
"""
from __future__ import annotations

import contextlib
import logging
import os.path as osp
import zipfile
from pathlib import Path

import open_clip
import torch
from torch import nn

from .wrapper import CLIPWrapper, FrozenSpec

MODEL_CONFIG_DIR = Path(__file__).parent / 'model_configs'
#: open_clip precisions whose weights are 16-bit (pure, not autocast).
LOW_PRECISIONS = ('bf16', 'fp16')

# How to obtain a checkpoint for names whose weights are not an open_clip
# release, by name prefix. Anything else gets the generic open_clip hint.
CHECKPOINT_HINTS: dict[str, str] = {
    'ovd-tiny': ('{name} is a project tiny CLIP: train it with '
                 '`python tools/shapes/train_tiny_clip.py` (CPU, minutes; see '
                 'its --help) and write the weights to that path'),
}


def register_model_configs(path: str | Path = MODEL_CONFIG_DIR) -> list[str]:
    """Register every open_clip model config ``*.json`` in ``path``.

    Runs at import of :mod:`ovd_ext.vlm` for ``ovd_ext/vlm/model_configs``;
    call it with another folder (or a single json) to add your own
    architectures. Returns the names the files define.
    """
    path = Path(path)
    files = [path] if path.is_file() else sorted(path.glob('*.json'))
    if not files:
        raise FileNotFoundError(f'no open_clip model config (*.json) in {path}')
    open_clip.add_model_config(path)
    names = [f.stem for f in files]
    missing = [n for n in names if n not in open_clip.list_models()]
    if missing:
        raise ValueError(
            f'open_clip rejected model config(s) {missing} in {path}: a config '
            'needs the keys embed_dim, vision_cfg and text_cfg')
    return names


class _DropRandomInitWarning(logging.Filter):
    """open_clip warns 'No pretrained weights loaded' because we pass
    ``pretrained=None`` and load the local file ourselves afterwards."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith('No pretrained weights loaded')


@contextlib.contextmanager
def _quiet_random_init(enabled: bool):
    root = logging.getLogger()
    filt = _DropRandomInitWarning()
    if enabled:
        root.addFilter(filt)
    try:
        yield
    finally:
        root.removeFilter(filt)


def how_to_obtain(model_name: str) -> str:
    """How to get a weights file for ``model_name`` (for error messages)."""
    for prefix, hint in CHECKPOINT_HINTS.items():
        if model_name.startswith(prefix):
            return hint.format(name=model_name)
    tags = open_clip.list_pretrained_tags_by_model(model_name)
    return ('download the open_clip weights file for this architecture '
            f'(open_clip pretrained tags for {model_name}: '
            f'{tags or "none listed"}) on a machine with internet and put it '
            'at that path; a state dict (.pt/.pth/.bin/.safetensors) or '
            "OpenAI's TorchScript .pt both work. For OpenAI weights use "
            'the "-quickgelu" variant of the name or tag="openai"')


def missing_checkpoint_message(model_name: str, path: str) -> str:
    """The error text for a checkpoint file that does not exist."""
    return (f'CLIP checkpoint for model {model_name!r} not found at '
            f'{osp.abspath(path)}. Nothing is downloaded at run time: '
            f'{how_to_obtain(model_name)}.')


def _is_torchscript(path: str) -> bool:
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as zf:
        return any(n.endswith('constants.pkl') for n in zf.namelist())


def load_clip_weights(model: nn.Module, path: str, model_name: str) -> None:
    """Load an open_clip state dict file (or OpenAI TorchScript) strictly."""
    try:
        if _is_torchscript(path):
            # OpenAI's original release is a TorchScript archive whose
            # state dict uses open_clip's CLIP key names.
            sd = torch.jit.load(path, map_location='cpu').state_dict()
            for key in ('input_resolution', 'context_length', 'vocab_size'):
                sd.pop(key, None)
            # TorchScript also saves buffers that are non-persistent here
            keep = set(model.state_dict())
            buffers = {name for name, _ in model.named_buffers()}
            sd = {k: v for k, v in sd.items()
                  if k in keep or k not in buffers}
            model.load_state_dict(sd, strict=True)
        else:
            open_clip.load_checkpoint(model, path, strict=True)
    except (RuntimeError, KeyError, ValueError) as e:
        lines = str(e).strip().splitlines()
        brief = '\n'.join(lines[:6]) + ('\n...' if len(lines) > 6 else '')
        raise RuntimeError(
            f'checkpoint {path} does not fit open_clip model {model_name!r} '
            f'(wrong architecture name or a corrupt file?):\n{brief}') from e


def create_clip_model(model_name: str, checkpoint: str | None,
                      tag: str | None = None, precision: str = 'fp32'
                      ) -> tuple[nn.Module, object, str | None,
                                 tuple[float, ...], tuple[float, ...]]:
    """The open_clip model behind :func:`build_clip` and
    :class:`~ovd_ext.vlm.openclip.OpenCLIP`, on the CPU.

    Checks the name and the file (see :func:`build_clip` for the arguments
    and errors), creates the architecture without resolving or downloading
    anything, and loads the local weights strictly.

    Returns:
        ``(model, tokenizer, checkpoint, mean, std)``: ``checkpoint`` as a
        ``str`` (or None), ``mean`` / ``std`` the preprocessing constants.
    """
    if model_name.startswith(('hf-hub:', 'local-dir:')):
        raise ValueError(
            f'build_clip takes an open_clip architecture name, not '
            f'{model_name!r}: put a config json in {MODEL_CONFIG_DIR} (or call '
            'register_model_configs) and pass the weights file as checkpoint')
    if model_name not in open_clip.list_models():
        raise ValueError(
            f'unknown open_clip model {model_name!r}; known: '
            f'{", ".join(open_clip.list_models())}')
    if checkpoint is not None:
        checkpoint = str(checkpoint)
        if not osp.isfile(checkpoint):
            if (open_clip.is_pretrained_cfg(model_name, checkpoint)
                    or checkpoint.startswith('hf-hub:')):
                raise ValueError(
                    f'checkpoint={checkpoint!r} is an open_clip hub tag; '
                    'ovd_ext never downloads weights. Pass a local file path; '
                    + how_to_obtain(model_name) + '.')
            raise FileNotFoundError(
                missing_checkpoint_message(model_name, checkpoint))

    tag_cfg = open_clip.get_pretrained_cfg(model_name, tag) if tag else {}
    if tag and not tag_cfg:
        raise ValueError(
            f'unknown open_clip tag {tag!r} for {model_name!r}; known: '
            f'{open_clip.list_pretrained_tags_by_model(model_name)}')
    # pretrained=None: nothing is resolved or downloaded by open_clip; the
    # weights are loaded below from the local file only.
    with _quiet_random_init(checkpoint is not None):
        model = open_clip.create_model(
            model_name, pretrained=None, precision=precision, device='cpu',
            pretrained_image=False, pretrained_text=False,
            force_quick_gelu=bool(tag_cfg.get('quick_gelu', False)),
            force_preprocess_cfg={k: tag_cfg[k] for k in ('mean', 'std')
                                  if k in tag_cfg})
    if checkpoint is not None:
        load_clip_weights(model, checkpoint, model_name)
    pp = open_clip.get_model_preprocess_cfg(model)
    tokenizer = open_clip.get_tokenizer(model_name)
    return model, tokenizer, checkpoint, pp['mean'], pp['std']


def set_input_layout(clip: CLIPWrapper, precision: str) -> CLIPWrapper:
    """NHWC layout for 16-bit ResNet image towers (see :func:`build_clip`);
    the layout does not change the values."""
    if precision in LOW_PRECISIONS and clip.kind == 'resnet':
        # oneDNN's bf16 / fp16 convolutions (AMX, AVX512-BF16) run fastest
        # on NHWC tensors: measured 1.6x on RN50 crops (benchmarks/
        # pseudo_label_speed.py).
        clip.visual.to(memory_format=torch.channels_last)
    return clip


def build_clip(model_name: str, checkpoint: str | None, device: str |
               torch.device = 'cpu', tag: str | None = None,
               frozen: FrozenSpec = True,
               precision: str = 'fp32') -> CLIPWrapper:
    """Build an open_clip architecture by name, weights from a local file.

    The plain-function form of the registered ``type='OpenCLIP'`` module
    (:class:`~ovd_ext.vlm.openclip.OpenCLIP`); both build the same model.

    Args:
        model_name: any open_clip architecture (``open_clip.list_models()``),
            including the project's configs in ``ovd_ext/vlm/model_configs``
            (e.g. ``'ovd-tiny-vit'``, ``'ovd-tiny-rn'``, ``'RN50'``).
        checkpoint: path of an open_clip state dict file
            (.pt/.pth/.bin/.safetensors, optionally under ``'state_dict'``)
            or OpenAI's TorchScript ``.pt``. ``None`` gives random weights
            (tests only). Hub tags and ``hf-hub:`` names are refused.
        device: where the model lives.
        tag: open_clip pretrained tag the file was published as (e.g.
            ``'openai'``). Only used offline, to take the preprocessing
            mean/std and the QuickGELU flag from open_clip's table.
        frozen: which towers are frozen: True (both), False (none), or a
            subset of ``('image', 'text')``; see :class:`CLIPWrapper`.
        precision: open_clip precision ('fp32', 'fp16', 'bf16', ...). 16-bit
            weights make batched crop encoding several times faster on CPUs
            with AMX / AVX512-BF16 (ResNet towers then use NHWC layout).

    Raises:
        FileNotFoundError: the checkpoint file does not exist; the message
            names the path and how to obtain the file.
        ValueError: unknown model name, or a hub name/tag instead of a path.
        RuntimeError: the file does not fit the architecture.
    """
    model, tokenizer, checkpoint, mean, std = create_clip_model(
        model_name, checkpoint, tag, precision)
    clip = CLIPWrapper(model, tokenizer, model_name, checkpoint,
                       mean=mean, std=std, frozen=frozen)
    return set_input_layout(clip, precision).to(device)
