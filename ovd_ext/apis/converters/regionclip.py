"""Official RegionCLIP checkpoints (microsoft/RegionCLIP, detectron2 names)
to the keys of ovd_ext's RegionCLIP detector (RegionCLIP Sec. 3.3: the
pretrained visual encoder initialises a ResNet-C4 Faster R-CNN whose regions
come from an offline RPN).

Key map: :mod:`.regionclip_keys`.

Conventions (checked against mmdet in the tests):

* Box deltas: detectron2's ``Box2BoxTransform`` and mmdet's
  ``DeltaXYWHBBoxCoder`` both use w = x2 - x1 and centre x1 + w / 2; weights
  (wx, wy, ww, wh) = 1 / target_stds: RPN (1, 1, 1, 1) = ``target_stds=[1,
  1, 1, 1]``, box head (10, 10, 5, 5) = ``[0.1, 0.1, 0.2, 0.2]``.
* Anchors: detectron2 ``OFFSET: 0.0`` = mmdet ``center_offset=0``, aspect
  ratio h / w in both, one logit and 4 deltas (channel a * 4 + k) per anchor,
  positions (H, W, A). One size per level (R50-FPN) gives the same order;
  several sizes per location (COCO's R50-C4 RPN, 15 anchors) are size-major
  in detectron2, i.e. mmdet ``scale_major=False`` (the report says so).
* Inputs: the CLIP part takes RGB with CLIP's mean / std, the offline RPN
  BGR 0-255 minus the caffe mean (two data preprocessors).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ...utils.io import torch_save_atomic, write_npy_atomic
from .regionclip_keys import (BBOX_PRED, C_PROJ, CLS_BG_SCORE, CLS_SCORE,
                              COMPILED_DROPS, COMPILED_RULES, NDIM, RPN_SRC)

@dataclass
class ConversionReport:
    """What a conversion did: tensors converted per target group, BN
    counters added, source keys dropped (by reason) and unmatched, warnings
    and notes for the config (layout of the offline RPN, classifier)."""

    source: str
    converted: dict[str, int] = field(default_factory=dict)
    added: list[str] = field(default_factory=list)
    dropped: dict[str, list[str]] = field(default_factory=dict)
    unmatched: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain (json / checkpoint ``meta``) form."""
        return asdict(self)

    def format(self, n: int = 3) -> str:
        """Readable summary (``n`` keys shown per list)."""
        def few(keys: list[str]) -> str:
            return ', '.join(keys[:n]) + (f', ... (+{len(keys) - n})'
                                          if len(keys) > n else '')
        lines = [f'converted {sum(self.converted.values())} tensors from '
                 f'{self.source}:']
        lines += [f'  {g}: {n}' for g, n in sorted(self.converted.items())]
        if self.added:
            lines.append(f'added {len(self.added)} num_batches_tracked = 0')
        for reason, keys in self.dropped.items():
            lines.append(f'dropped {len(keys)} ({reason}): {few(keys)}')
        if self.unmatched:
            lines.append(f'UNMATCHED {len(self.unmatched)} (not converted): '
                         f'{few(self.unmatched)}')
        lines += [f'WARNING: {w}' for w in self.warnings]
        lines += [f'note: {n}' for n in self.notes]
        return '\n'.join(lines)


@dataclass
class Conversion:
    """Converted ``state_dict``, its report and the source's text
    classifier ``cls_score.weight`` [C, D] (None if absent)."""

    state_dict: dict[str, Tensor]
    report: ConversionReport
    classifier: Tensor | None = None


def _group(target: str) -> str:
    parts = target.split('.')
    return '.'.join(parts[:2] if parts[0] in ('roi_head', 'offline_rpn')
                    else parts[:1])


def _shape_error(source: str, key: str, t: Tensor, expected: str) -> None:
    raise ValueError(f'{source}: {key} has shape {tuple(t.shape)}, expected '
                     f'{expected}')


def _check_heads(sd: dict[str, Tensor], source: str) -> None:
    """Shapes the key map relies on: box regressor [4, D], classifier
    [C, D], background [1, D] (D = the attention pool's output), RPN with A
    logits and 4A deltas per location."""
    cls = sd.get(CLS_SCORE)
    dim = (sd[C_PROJ].shape[0] if C_PROJ in sd else
           cls.shape[-1] if cls is not None else None)
    d = 'D' if dim is None else dim
    obj = sd.get(f'{RPN_SRC}.objectness_logits.weight')
    a = None if obj is None else obj.shape[0]
    checks = [  # key, shape (None: any size), expected
        (f'{BBOX_PRED}.weight', (4, dim), f'[4, {d}] (class-agnostic box '
         'regression on the attention-pool embedding)'),
        (f'{BBOX_PRED}.bias', (4, ), '[4]'),
        (CLS_SCORE, (None, dim), f'[C, {d}]'),
        (CLS_BG_SCORE, (1, dim), f'[1, {d}]'),
        (f'{RPN_SRC}.anchor_deltas.weight',
         (None if a is None else 4 * a, None, None, None),
         f'{4 * a} output channels (4 per anchor, {a} anchors)' if a else
         '[4A, C, 1, 1]'),
    ]
    for key, shape, expected in checks:
        t = sd.get(key)
        if t is not None and (t.ndim != len(shape) or any(
                s is not None and s != n for s, n in zip(shape, t.shape))):
            _shape_error(source, key, t, expected)


def _notes(sd: dict[str, Tensor], report: ConversionReport,
           classifier: Tensor | None) -> None:
    """Layout hints for the config, read from the weights."""
    if classifier is not None:
        report.notes.append(f'{CLS_SCORE} {list(classifier.shape)} not loaded')
    if f'{BBOX_PRED}.weight' not in sd:
        report.notes.append('no box regressor in the source (pretrained-only '
                            'checkpoint): roi_head.bbox_head.fc_reg keeps its '
                            'initialisation')
    obj = sd.get(f'{RPN_SRC}.objectness_logits.weight')
    if obj is None:
        report.notes.append('no offline RPN in the source: give the detector '
                            'an offline_rpn_checkpoint')
        return
    anchors, convs = obj.shape[0], {k for k in sd if k.startswith(
        f'{RPN_SRC}.conv.') and k.endswith('.weight')}
    if any(k.startswith('offline_backbone.fpn_') for k in sd):
        ins = [sd[f'offline_backbone.fpn_lateral{s}.weight'].shape[1]
               for s in range(2, 6)
               if f'offline_backbone.fpn_lateral{s}.weight' in sd]
        report.notes.append(
            f'offline RPN: detectron2 R50-FPN -> mmdet ResNet(depth=50, '
            f"style='caffe') + FPN(in_channels={ins}, num_outs=5) + RPNHead "
            f'with {anchors} anchors per location (one size per level: '
            'detectron2 and mmdet anchor orders agree)')
        if 'offline_backbone.fpn_lateral2.norm.weight' in sd:
            report.notes.append('FPN convs carry norms (LSJ RPN): FPN needs '
                                'norm_cfg')
    else:
        report.notes.append(
            f'offline RPN: detectron2 R50-C4 -> mmdet ResNet(depth=50, '
            "style='caffe', num_stages=3, strides=(1, 2, 2), dilations=(1, 1, "
            "1), out_indices=(2, )), no neck, RPNHead with "
            f'{anchors} anchors per location at stride 16; detectron2 orders '
            'them size-major: AnchorGenerator(scale_major=False)')
    if len(convs) > 1:
        report.notes.append(f'RPN head has {len(convs)} convs: '
                            f'RPNHead(num_convs={len(convs)})')


def convert_regionclip(state_dict: dict[str, Tensor],
                       source: str = '<state dict>',
                       allow_unmatched: bool = False) -> Conversion:
    """Rename a RegionCLIP (detectron2) state dict to ovd_ext's keys.

    Values are kept (same tensors, same shapes); BN layers without
    ``num_batches_tracked`` get a 0. Raises ``ValueError`` naming ``source``
    and the key for a wrongly shaped tensor, and for source keys neither
    converted nor dropped on purpose unless ``allow_unmatched`` (they are
    then only reported).
    """
    _check_heads(state_dict, source)
    report = ConversionReport(source=source)
    out: dict[str, Tensor] = {}
    for key, value in state_dict.items():
        for pattern, target, kind in COMPILED_RULES:
            m = pattern.match(key)
            if m is None:
                continue
            leaf = key.rsplit('.', 1)[1]
            ndim = NDIM[kind].get(leaf, 2 if kind == 'matrix' else 1)
            if value.ndim != ndim:
                _shape_error(source, key, value, f'a {ndim}-D tensor ({kind})')
            name = target(m)
            if name in out:
                raise ValueError(f'{source}: {key} maps to {name}, which '
                                 'another key already gave')
            out[name] = value
            report.converted[_group(name)] = report.converted.get(
                _group(name), 0) + 1
            break
        else:
            reason = next((r for p, r in COMPILED_DROPS if p.match(key)), None)
            if reason is None:
                report.unmatched.append(key)
            else:
                report.dropped.setdefault(reason, []).append(key)
    for key in [k for k in out if k.endswith('.running_var')]:
        counter = key[:-len('running_var')] + 'num_batches_tracked'
        if counter not in out:
            out[counter] = torch.tensor(0, dtype=torch.long)
            report.added.append(counter)
    bg = state_dict.get(CLS_BG_SCORE)
    if bg is not None and bool(bg.abs().max() > 0):
        report.warnings.append(
            f'{CLS_BG_SCORE} is not all zero (max |w| = '
            f'{bg.abs().max().item():.3g}); it is dropped all the same')
    classifier = state_dict.get(CLS_SCORE)
    _notes(state_dict, report, classifier)
    if report.unmatched and not allow_unmatched:
        more = ', ...' if len(report.unmatched) > 5 else ''
        raise ValueError(
            f'{source}: {len(report.unmatched)} keys are neither converted '
            f'nor known to be droppable: {", ".join(report.unmatched[:5])}'
            f'{more} (allow_unmatched / --allow-unmatched converts the rest)')
    return Conversion(out, report, classifier)


def classifier_rows(weight: Tensor) -> np.ndarray:
    """``cls_score.weight`` [C, D] as float32 rows of unit L2 norm (the
    vocabulary ``.npy`` format; RegionCLIP normalises them in Eq. 1)."""
    w = weight.detach().float().cpu().numpy()
    return (w / np.clip(np.linalg.norm(w, axis=1, keepdims=True), 1e-12,
                        None)).astype(np.float32)


def extract_state_dict(obj: Any, source: str) -> dict[str, Tensor]:
    """The state dict in a loaded checkpoint: ``{'model': sd}`` (detectron2),
    ``{'state_dict': sd}`` (mmengine) or a bare ``sd``; numpy arrays become
    tensors, a DDP ``module.`` prefix on every key is removed."""
    if isinstance(obj, dict):
        for key in ('model', 'state_dict'):
            if isinstance(obj.get(key), dict):
                obj = obj[key]
                break
    if not isinstance(obj, dict) or not obj:
        raise ValueError(f'{source}: no state dict found (expected '
                         "{'model': sd}, {'state_dict': sd} or a non-empty "
                         f'sd, got {type(obj).__name__})')
    bad = [k for k, v in obj.items()
           if not isinstance(v, (Tensor, np.ndarray))]
    if bad:
        raise ValueError(f'{source}: not a state dict, these entries are not '
                         f'tensors: {", ".join(map(str, bad[:5]))}')
    sd = {k: torch.as_tensor(v) for k, v in obj.items()}
    if all(k.startswith('module.') for k in sd):
        sd = {k[len('module.'):]: v for k, v in sd.items()}
    return sd


def load_checkpoint(path: str) -> tuple[Any, bool]:
    """``torch.load`` on CPU, weights-only first; ``(object, True)`` when
    the file needed full unpickling (only load files you trust)."""
    try:
        return torch.load(path, map_location='cpu', weights_only=True), False
    except FileNotFoundError:
        raise FileNotFoundError(f'checkpoint not found: {path}') from None
    except Exception:   # noqa: BLE001  (pickled non-tensor objects)
        pass
    try:
        return torch.load(path, map_location='cpu', weights_only=False), True
    except Exception as e:   # noqa: BLE001
        raise ValueError(f'{path}: cannot read the checkpoint: {e}') from e


def convert_regionclip_file(src: str, dst: str,
                            save_classifier: str | None = None,
                            allow_unmatched: bool = False) -> ConversionReport:
    """Convert checkpoint ``src`` and write ``dst`` atomically as
    ``{'state_dict': ..., 'meta': {'converted_from': src, 'report': ...}}``;
    ``save_classifier``: also write the text classifier as a ``.npy``
    (float32 [C, D], unit rows, in the checkpoint's class order)."""
    obj, unsafe = load_checkpoint(src)
    conv = convert_regionclip(extract_state_dict(obj, src), src,
                              allow_unmatched)
    report = conv.report
    if unsafe:
        report.warnings.append(f'{src} holds pickled objects besides tensors '
                               '(loaded with weights_only=False)')
    if save_classifier is not None:
        if conv.classifier is None:
            raise ValueError(f'{src}: no {CLS_SCORE} to save to '
                             f'{save_classifier}')
        write_npy_atomic(save_classifier, classifier_rows(conv.classifier))
        report.notes.append(
            f'classifier saved to {save_classifier}: pair it with its '
            f'{conv.classifier.shape[0]} class names (checkpoint order) in a '
            'sidecar .json to use it as a vocabulary')
    torch_save_atomic(dst, dict(state_dict=conv.state_dict,
                                meta=dict(converted_from=src,
                                          report=report.to_dict())))
    return report
