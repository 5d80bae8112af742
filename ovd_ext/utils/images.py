"""Reading images with a clear error for every way a file can be unusable.

:func:`read_image` decodes with mmcv (OpenCV) as mmdet's pipelines do and
raises :class:`ImageReadError` (with a ``reason``) for a missing file, data
that does not decode, an image of another size than its json record says, and
a *truncated* file. OpenCV decodes a JPEG cut off mid-stream without an error
(the missing rows come out grey), so the file is also checked with Pillow,
whose decoder refuses truncated data as long as
``PIL.ImageFile.LOAD_TRUNCATED_IMAGES`` is off (it is forced off for the
check); JPEGs are checked at 1/8 scale (``draft``), which still reads the
whole entropy-coded stream but costs a fraction of a full decode.
"""
from __future__ import annotations

import io
import os.path as osp

import numpy as np

#: ``ImageReadError.reason`` values.
READ_ERROR_REASONS = ('missing', 'corrupt', 'truncated', 'size_mismatch')


class ImageReadError(RuntimeError):
    """An image that cannot be used; ``reason`` is one of
    :data:`READ_ERROR_REASONS` and ``path`` the file."""

    def __init__(self, message: str, reason: str = 'corrupt',
                 path: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.path = path


def check_complete(data: bytes, path: str = '<bytes>') -> None:
    """Raise :class:`ImageReadError` (``'truncated'``) if Pillow finds the
    encoded image ``data`` incomplete; other Pillow failures (formats it does
    not know) are left to the main decoder."""
    from PIL import Image, ImageFile
    old = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with Image.open(io.BytesIO(data)) as im:
            if im.format == 'JPEG':
                im.draft(im.mode, (max(1, im.width // 8),
                                   max(1, im.height // 8)))
            im.load()
    except OSError as e:
        if 'truncated' in str(e) or 'broken data stream' in str(e):
            raise ImageReadError(f'truncated file {path} ({e}): it decodes '
                                 'only partially', 'truncated', path) from e
    except Exception:  # noqa: BLE001  (unknown format: OpenCV decides)
        pass
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = old


def read_image(path: str, width: int | None = None,
               height: int | None = None,
               check_truncated: bool = True,
               channel_order: str = 'bgr') -> np.ndarray:
    """BGR (or RGB) ``HxWx3`` uint8 image of ``path``.

    Args:
        width, height: the size the image's json record gives (checked when
            both are given).
        check_truncated: also refuse files that decode only partially.
        channel_order: ``'bgr'`` (mmdet's pipelines) or ``'rgb'`` (CLIP,
            Pillow-style arrays).

    Raises:
        ImageReadError: saying why (``reason``: missing, corrupt, truncated,
            size_mismatch) and naming the file.
    """
    import mmcv
    if channel_order not in ('bgr', 'rgb'):
        raise ValueError("read_image: channel_order must be 'bgr' or 'rgb', "
                         f'got {channel_order!r}')
    if not osp.isfile(path):
        raise ImageReadError(f'missing file {path}', 'missing', path)
    with open(path, 'rb') as f:
        data = f.read()
    try:
        img = mmcv.imfrombytes(data, flag='color',
                               channel_order=channel_order)
    except Exception as e:  # decoders raise many types on corrupt data
        raise ImageReadError(f'cannot decode {path}: {e}', 'corrupt',
                             path) from e
    if img is None or img.ndim != 3 or img.size == 0:
        raise ImageReadError(f'cannot decode {path}', 'corrupt', path)
    if check_truncated:
        check_complete(data, path)
    if width is not None and height is not None and (
            img.shape[1] != int(width) or img.shape[0] != int(height)):
        raise ImageReadError(
            f'{path} is {img.shape[1]}x{img.shape[0]} but the json says '
            f'{width}x{height}', 'size_mismatch', path)
    return img
