"""Window attention geometry for ViTDet / DITO backbones (pure functions).

Token maps are ``[B, H, W, C]``. A map is padded to a multiple of the window
size ``M`` (patches per window side), cut into ``(H/M) x (W/M)`` windows
(``K x K`` for a square image of ``K * M`` patches), and put back.

Which tokens may attend to which is described by an integer *region label*
per token: a query attends to the keys of its window that carry the same
label. Labels encode

* padding: padded tokens get label ``-1`` (they never serve as keys of real
  tokens; among themselves they attend, their outputs are dropped);
* the image border of the shifted pass (DITO Sec. 3.3, Algorithm 1): after
  ``torch.roll`` by ``s``, the tokens that wrapped around from the bottom /
  right edge sit next to tokens from the top / left edge; labels
  ``2 * wrapped_row + wrapped_col`` keep them apart, as Swin's cyclic-shift
  mask does (Liu et al. 2021, Sec. 3.2).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

#: Label of padded tokens.
PAD_LABEL = -1


def pad_to_windows(x: torch.Tensor, window: int
                   ) -> tuple[torch.Tensor, tuple[int, int]]:
    """Zero-pad ``[B, H, W, C]`` at the bottom / right to multiples of
    ``window``; returns the padded map and the original ``(H, W)``."""
    h, w = x.shape[1], x.shape[2]
    ph, pw = (-h) % window, (-w) % window
    if ph or pw:
        x = F.pad(x, (0, 0, 0, pw, 0, ph))
    return x, (h, w)


def window_partition(x: torch.Tensor, window: int) -> torch.Tensor:
    """``[B, H, W, C]`` (H, W multiples of ``window``) to
    ``[B * nW, window * window, C]``, windows in row-major order per image."""
    b, h, w, c = x.shape
    x = x.view(b, h // window, window, w // window, window, c)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(-1, window * window, c)


def window_unpartition(windows: torch.Tensor, window: int,
                       hw: tuple[int, int]) -> torch.Tensor:
    """Inverse of :func:`window_partition` for a padded map of size ``hw``."""
    h, w = hw
    c = windows.shape[-1]
    b = windows.shape[0] // ((h // window) * (w // window))
    x = windows.view(b, h // window, w // window, window, window, c)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(b, h, w, c)


def roll_map(x: torch.Tensor, shift: int) -> torch.Tensor:
    """Algorithm 1's ``np.roll(x, [s, s], axis=[0, 1])`` on ``[B, H, W, C]``
    (rows and columns, with wrap-around); ``shift=-s`` undoes it."""
    return torch.roll(x, shifts=(shift, shift), dims=(1, 2))


def region_labels(padded_hw: tuple[int, int], valid_hw: tuple[int, int],
                  shift: int = 0, mask_border: bool = True,
                  device: torch.device | str | None = None) -> torch.Tensor:
    """Per-token labels ``[H, W]`` (long) of a padded map rolled by
    ``shift`` (see module doc). ``mask_border=False`` (or ``shift=0``) gives
    every real token label 0 (the official DITO code's unmasked shift)."""
    hp, wp = padded_hw
    rows = torch.arange(hp, device=device)
    cols = torch.arange(wp, device=device)
    labels = torch.zeros(hp, wp, dtype=torch.long, device=device)
    if mask_border and shift:
        # positions are those of the un-rolled map; wrapped = moved across
        # the bottom / right border by the roll
        wrapped_r = (rows >= hp - shift).long()
        wrapped_c = (cols >= wp - shift).long()
        labels = 2 * wrapped_r[:, None] + wrapped_c[None, :]
    pad = (rows >= valid_hw[0])[:, None] | (cols >= valid_hw[1])[None, :]
    labels = labels.masked_fill(pad, PAD_LABEL)
    if shift:
        labels = torch.roll(labels, shifts=(shift, shift), dims=(0, 1))
    return labels


def window_masks(labels: torch.Tensor, window: int) -> torch.Tensor:
    """Boolean attention masks ``[nW, M*M, M*M]`` (True: may attend) of the
    windows of a label map ``[H, W]``: same label within the window."""
    lab = window_partition(labels[None, :, :, None], window)[..., 0]
    return lab[:, :, None] == lab[:, None, :]


def global_mask(labels: torch.Tensor) -> torch.Tensor:
    """Boolean mask ``[HW, HW]`` for a global-attention layer: only padding
    is kept apart (global attention is blind to the roll, so the shifted
    pass needs no border mask there)."""
    pad = labels.flatten() == PAD_LABEL
    return pad[:, None] == pad[None, :]
