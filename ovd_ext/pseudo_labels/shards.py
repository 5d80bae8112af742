"""Shards of a pseudo-label run and their append-only logs.

A run over a dataset json is split into ``n`` shards (image ids sorted,
shard ``i`` takes every n-th from the i-th). Each shard appends one json line
per finished image to ``<out stem>.shards/shard-III-of-NNN.jsonl`` and
flushes it; its first line is a header with the settings. A restarted shard
skips the images it already has (a half-written last line is dropped) and
refuses to continue under other settings.
"""
from __future__ import annotations

import json
import os
import os.path as osp
from typing import Sequence

SHARD_SUFFIX = '.shards'


def parse_shard(spec: str) -> tuple[int, int]:
    """``'i/n'`` -> ``(i, n)`` with ``0 <= i < n``."""
    try:
        i, n = (int(v) for v in str(spec).split('/'))
    except ValueError:
        raise ValueError(f'--shard must look like i/n (e.g. 0/4), got '
                         f'{spec!r}') from None
    if not 0 <= i < n:
        raise ValueError(f'shard index must be in [0, {n}), got {spec!r}')
    return i, n


def shard_images(images: Sequence[dict], index: int, count: int,
                 max_images: int | None = None) -> list[dict]:
    """Image records of shard ``index`` of ``count`` (sorted by id; the
    first ``max_images`` of the dataset only, when given)."""
    ordered = sorted(images, key=lambda im: int(im['id']))
    if max_images is not None:
        ordered = ordered[:max_images]
    return ordered[index::count]


def shard_path(out: str, index: int, count: int) -> str:
    """``<out stem>.shards/shard-III-of-NNN.jsonl``."""
    root, _ = osp.splitext(out)
    return osp.join(root + SHARD_SUFFIX,
                    f'shard-{index:03d}-of-{count:03d}.jsonl')


def report_path(out: str) -> str:
    """Sidecar report of the final json: ``X.json`` -> ``X.report.json``."""
    root, _ = osp.splitext(out)
    return root + '.report.json'


def header_diff(old: dict, new: dict, prefix: str = '') -> list[str]:
    """``'key.sub: old -> new'`` for every difference of two headers."""
    out = []
    for k in sorted(set(old) | set(new)):
        a, b = old.get(k), new.get(k)
        if isinstance(a, dict) and isinstance(b, dict):
            out += header_diff(a, b, f'{prefix}{k}.')
        elif a != b:
            out.append(f'{prefix}{k}: {a!r} -> {b!r}')
    return out


def read_header(path: str) -> dict:
    """The header of a shard log (error naming the file if it has none)."""
    with open(path) as f:
        line = f.readline()
    try:
        return json.loads(line)['header']
    except (json.JSONDecodeError, KeyError, TypeError):
        raise ValueError(f'{path}: first line is not a shard header; delete '
                         'the file to start the shard over') from None


class ShardLog:
    """Append-only jsonl of one shard: a header line, then one record per
    image (``{'image_id', 'annotations'}`` or ``{'image_id', 'skipped',
    'reason'}``).

    Args:
        path: the jsonl file; an existing one is read (and checked against
            ``header``).
        header: the run's settings (json-normalised).
        create: write the file (header line) now if it does not exist; with
            False only :meth:`create` or :meth:`append` write it, so a run
            that fails before labeling leaves nothing behind.
    """

    def __init__(self, path: str, header: dict, create: bool = True) -> None:
        self.path = path
        self.header = json.loads(json.dumps(header))   # json-normalised
        self.records: dict[int, dict] = {}
        if osp.isfile(path):
            self._load()
        if create:
            self.create()

    def create(self) -> None:
        """Write the header line unless the file has one."""
        if not osp.isfile(self.path) or osp.getsize(self.path) == 0:
            os.makedirs(osp.dirname(osp.abspath(self.path)), exist_ok=True)
            with open(self.path, 'w') as f:
                f.write(json.dumps({'header': self.header}) + '\n')

    def _load(self) -> None:
        good = 0
        with open(self.path, 'rb') as f:
            lines = f.read().split(b'\n')
        for i, line in enumerate(lines):
            if not line.strip():
                good += len(line) + 1
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                if any(x.strip() for x in lines[i + 1:]):
                    raise ValueError(
                        f'{self.path}: corrupt line {i + 1}') from None
                break           # a half-written last line: drop it
            if i == 0:
                diff = header_diff(rec.get('header', {}), self.header)
                if diff:
                    raise ValueError(
                        f'{self.path} was written with other settings ('
                        + '; '.join(diff[:5]) + '); use the same settings '
                        'or delete the shard file to start over')
            else:
                if not isinstance(rec, dict) or 'image_id' not in rec:
                    raise ValueError(f'{self.path}: line {i + 1} has no '
                                     '"image_id"')
                self.records[int(rec['image_id'])] = rec
            good += len(line) + 1
        good = min(good, osp.getsize(self.path))
        with open(self.path, 'r+b') as f:   # cut a partial last line
            f.truncate(good)
            if good:
                f.seek(good - 1)
                if f.read(1) != b'\n':
                    f.write(b'\n')

    def append(self, record: dict) -> None:
        """Add one image's record (flushed at once)."""
        self.create()
        with open(self.path, 'a') as f:
            f.write(json.dumps(record) + '\n')
            f.flush()
        self.records[int(record['image_id'])] = record
