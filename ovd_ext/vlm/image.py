"""Image preprocessing and whole-image embeddings.

Image layout convention (one rule, no guessing from shapes):

* ``numpy`` arrays are HWC (``H x W x 3``, or ``N x H x W x 3``) as read by
  cv2 / PIL;
* ``torch`` tensors are CHW (``3 x H x W``, or ``N x 3 x H x W``) as in
  torchvision / mmdet;
* ``uint8`` pixels are 0..255; float pixels are 0..``max_value`` (default
  255, mmdet's convention; pass ``max_value=1.0`` for torchvision-style);
* channels are RGB unless ``bgr=True`` (cv2 / mmdet default loading).
"""
from __future__ import annotations

from typing import Sequence, Union

import numpy as np
import torch
import torch.nn.functional as F

from .wrapper import CLIPWrapper

ImageLike = Union[np.ndarray, torch.Tensor]


def to_chw_float(image: ImageLike, max_value: float = 255.0,
                 bgr: bool = False,
                 device: torch.device | str | None = None) -> torch.Tensor:
    """One image as a float32 RGB tensor ``[3, H, W]`` in [0, 1]."""
    if isinstance(image, np.ndarray):
        if image.ndim != 3 or image.shape[2] != 3:
            raise ValueError('numpy images must be H x W x 3 (HWC), got '
                             f'shape {image.shape}')
        t = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)
    elif isinstance(image, torch.Tensor):
        if image.ndim != 3 or image.shape[0] != 3:
            raise ValueError('torch images must be 3 x H x W (CHW), got '
                             f'shape {tuple(image.shape)}')
        t = image
    else:
        raise TypeError(f'unsupported image type {type(image).__name__}')
    t = t.to(device) if device is not None else t
    scale = 255.0 if t.dtype == torch.uint8 else float(max_value)
    t = t.float() / scale
    return t.flip(0) if bgr else t


def split_images(images: ImageLike | Sequence[ImageLike]) -> list[ImageLike]:
    """A batch (4-D array/tensor), one image or a list, as a list."""
    if isinstance(images, (np.ndarray, torch.Tensor)):
        return list(images) if images.ndim == 4 else [images]
    return list(images)


def resize_normalize(clip: CLIPWrapper, image: torch.Tensor,
                     size: tuple[int, int] | None = None) -> torch.Tensor:
    """Resize ``[3, H, W]`` or ``[N, 3, H, W]`` RGB in [0, 1] to ``size``
    (default: the model input size; aspect ratio not kept) with antialiased
    bicubic, clamp to [0, 1] and normalise with the model's mean/std."""
    size = tuple(size or clip.image_size)
    x = image[None] if image.ndim == 3 else image
    x = x.to(device=clip.device, dtype=torch.float32)
    if tuple(x.shape[-2:]) != size:
        x = F.interpolate(x, size=size, mode='bicubic', align_corners=False,
                          antialias=True).clamp_(0.0, 1.0)
    x = (x - clip.mean[:, None, None]) / clip.std[:, None, None]
    return x[0] if image.ndim == 3 else x


def preprocess_images(clip: CLIPWrapper,
                      images: ImageLike | Sequence[ImageLike],
                      size: tuple[int, int] | None = None,
                      max_value: float = 255.0,
                      bgr: bool = False) -> torch.Tensor:
    """Images (see module doc for layouts) to a normalised batch
    ``[N, 3, *size]`` on the model's device, ready for :func:`encode_image`
    (``size`` None: the model input size) or :func:`dense_features`."""
    ims = [to_chw_float(im, max_value, bgr, clip.device)
           for im in split_images(images)]
    if not ims:
        raise ValueError('no images given')
    return torch.stack([resize_normalize(clip, im, size) for im in ims])


def check_input_size(clip: CLIPWrapper, images: torch.Tensor) -> None:
    """Raise a clear error unless ``images`` is ``[N, 3, H, W]`` at the
    model input size."""
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f'expected a preprocessed batch [N, 3, H, W], got '
                         f'{tuple(images.shape)}; see preprocess_images')
    if tuple(images.shape[-2:]) != clip.image_size:
        raise ValueError(
            f'{clip.name} encodes images of size {clip.image_size}, got '
            f'{tuple(images.shape[-2:])}; resize with preprocess_images')


def encode_image(clip: CLIPWrapper, images: torch.Tensor,
                 batch_size: int | None = None) -> torch.Tensor:
    """Global image embeddings ``[N, D]`` (unit rows, float32).

    Args:
        images: preprocessed ``[N, 3, H, W]`` at the model input size
            (from :func:`preprocess_images`).
        batch_size: images per forward (None: all at once).
    """
    check_input_size(clip, images)
    bs = batch_size or max(len(images), 1)
    out = []
    with clip.grad_context('image'):
        for s in range(0, len(images), bs):
            x = images[s:s + bs].to(device=clip.device, dtype=clip.dtype)
            if clip.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            out.append(F.normalize(clip.model.encode_image(x).float(), dim=-1))
    if not out:
        return torch.zeros(0, clip.embed_dim, device=clip.device)
    return torch.cat(out)
