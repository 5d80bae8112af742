"""An ``img2dataset --output_format files`` folder (CC3M, CC12M, ...) to the
COCO-Captions json that :class:`~ovd_ext.datasets.CaptionDataset` and
:func:`~ovd_ext.datasets.concept_pool.load_captions` read.

Layout read: ``root/<shard>/<key>.{jpg,png,webp}`` with ``<key>.txt`` (the
caption) and ``<key>.json`` (img2dataset's metadata: ``status``, ``width``,
``height``; may be absent). Shards are the all-digit folders of ``root``
(``00000/``, ``00001/``, ...); the shard parquet / stats files beside them are
not read.
"""
from __future__ import annotations

import json
import os
import os.path as osp
import posixpath

from PIL import Image

from ...utils.io import write_json_atomic

IMAGE_EXTS = ('.jpg', '.jpeg', '.png', '.webp')
#: why an item was skipped (the keys of the returned ``skipped`` counts)
SKIP_REASONS = ('failed_status', 'bad_sidecar', 'no_image', 'no_caption',
                'empty_caption', 'unreadable_image')


def _scan(root: str) -> dict[tuple[str, str], dict[str, str]]:
    """``{(key, shard): {'image' | 'txt' | 'json': path}}`` over the shards."""
    items: dict[tuple[str, str], dict[str, str]] = {}
    shards = sorted(d for d in os.listdir(root)
                    if d.isdigit() and osp.isdir(osp.join(root, d)))
    for shard in shards:
        for name in os.listdir(osp.join(root, shard)):
            key, ext = osp.splitext(name)
            ext = ext.lower()
            kind = ('image' if ext in IMAGE_EXTS else
                    ext[1:] if ext in ('.txt', '.json') else None)
            if kind:
                items.setdefault((key, shard), {})[kind] = osp.join(
                    root, shard, name)
    return items


def _read_sidecar(path: str) -> dict | None:
    """The metadata dict, or None if the file is not a json object."""
    try:
        with open(path, encoding='utf-8') as f:
            meta = json.load(f)
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


def _image_size(meta: dict | None, path: str) -> tuple[int, int] | None:
    """``(width, height)`` from the sidecar, else from the image header;
    None if PIL cannot read the image."""
    if meta and all(isinstance(meta.get(k), int) and meta[k] > 0
                    for k in ('width', 'height')):
        return meta['width'], meta['height']
    try:
        with Image.open(path) as img:
            return img.size
    except (OSError, ValueError, Image.DecompressionBombError):
        return None


def img2dataset_to_coco_captions(root: str, out: str,
                                 image_prefix: str = '') -> dict:
    """Convert the img2dataset folder ``root`` and write the json ``out``.

    Images get ids 1, 2, ... in sorted ``(key, shard)`` order, one caption
    each (annotation id = image id); ``file_name`` is the image path
    relative to ``root`` (``'/'``-separated) joined to ``image_prefix``. The
    size comes from the sidecar json when it has one, else from the image
    header (the image is then checked to open; with a sidecar it is not).
    Items with a sidecar status other than ``'success'``, an unparsable
    sidecar, no image, no or an empty caption, or an image PIL cannot open
    are skipped and counted.

    Returns:
        ``{'images': n, 'skipped': {reason: count}}`` (every reason of
        :data:`SKIP_REASONS`, zeros included).

    Raises:
        FileNotFoundError: ``root`` is not a folder.
        ValueError: no image was converted (``out`` is then not written).
    """
    if not osp.isdir(root):
        raise FileNotFoundError(f'img2dataset folder {root} not found')
    skipped = dict.fromkeys(SKIP_REASONS, 0)
    images: list[dict] = []
    annotations: list[dict] = []
    items = _scan(root)
    for key_shard in sorted(items):
        files = items[key_shard]
        meta = None
        if 'json' in files:
            meta = _read_sidecar(files['json'])
            if meta is None:
                skipped['bad_sidecar'] += 1
                continue
            if meta.get('status', 'success') != 'success':
                skipped['failed_status'] += 1
                continue
        if 'image' not in files:
            skipped['no_image'] += 1
            continue
        if 'txt' not in files:
            skipped['no_caption'] += 1
            continue
        try:
            with open(files['txt'], encoding='utf-8') as f:
                caption = f.read().strip()
        except (OSError, UnicodeDecodeError):
            caption = ''
        if not caption:
            skipped['empty_caption'] += 1
            continue
        size = _image_size(meta, files['image'])
        if size is None:
            skipped['unreadable_image'] += 1
            continue
        img_id = len(images) + 1
        rel = osp.relpath(files['image'], root).replace(os.sep, '/')
        images.append(dict(
            id=img_id, width=size[0], height=size[1],
            file_name=posixpath.join(image_prefix, rel) if image_prefix
            else rel))
        annotations.append(dict(id=img_id, image_id=img_id, caption=caption))
    if not images:
        why = {k: v for k, v in skipped.items() if v}
        raise ValueError(
            f'no image converted from {root} (expected img2dataset '
            '--output_format files shards 00000/, 00001/, ... holding '
            f'<key>.jpg + <key>.txt; found {len(items)} items, skipped: '
            f'{why})')
    write_json_atomic(out, dict(images=images, annotations=annotations),
                      indent=None)
    return {'images': len(images), 'skipped': skipped}
