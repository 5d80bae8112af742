"""Speed of VL-PLM region scoring: sequential crops vs batched crops vs
shared features (Fast VL-PLM, supplement A.2), measured in one run.

Every path scores the same synthetic COCO-sized images (default 640x480) and
the same refined regions (default 100 per image) with Eq. 5 over 1x and 1.5x
boxes, with open_clip architectures at RANDOM weights (weights do not change
speed; nothing is downloaded):

  (a) per-region sequential reference: one crop per CLIP call
      (``encode_crops(..., batch_size=1)`` per region), as the paper's
      "VL-PLM sequentially generates PLs for each region proposal";
  (b) ovd_ext's batched crop path (``region_embeddings(mode='crops')``),
      in fp32 and, as (b16), with the same weights in bf16
      (``build_clip(precision='bf16')``: oneDNN AMX / AVX512-BF16 kernels,
      NHWC for ResNets);
  (c) shared-feature path (``mode='fast'``, RN50 only): one pass over the
      whole image at detection resolution (short side 800 -> 1056x800 input),
      regions RoI-pooled from it.

It prints images/s of each path (wall clock, and process CPU time, which
with one thread is robust to other jobs on a shared machine), the ratios
(b)/(a) and (c)/(a), whether (a)
and (b) give the same labels (argmax over a random 17-class vocabulary) and
their largest probability difference, then the peak RSS of a fresh process
scoring N images with (b) or (c) for each N in --mem-images (the sequential
path is left out: at ~30-60 s per image on CPU, 1000 images take hours;
by default the memory runs use path (c) with a 224 short side and 10
regions per image so that 1000 images take minutes; the RSS growth over
images is what they show).

  python benchmarks/pseudo_label_speed.py                  # ~10 min
  python benchmarks/pseudo_label_speed.py --archs RN50 --images 1 \
      --mem-images                                         # ~2 min
  python benchmarks/pseudo_label_speed.py --threads 2 --mem-paths b c \
      --mem-short-side 800                                 # hours
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np
import torch

from ovd_ext.vlm import CLIPWrapper, encode_crops
from ovd_ext.vlm.regions import region_embeddings
from ovd_ext.vlm.zero_shot import class_probabilities, combine_scales


def build_random_clip(arch: str) -> CLIPWrapper:
    """An open_clip architecture with random weights (no download)."""
    import open_clip
    torch.manual_seed(0)
    model = open_clip.create_model(arch, pretrained=None)
    pp = open_clip.get_model_preprocess_cfg(model)
    return CLIPWrapper(model, open_clip.get_tokenizer(arch), arch, None,
                       mean=pp['mean'], std=pp['std'])


def low_precision_copy(clip: CLIPWrapper, precision: str) -> CLIPWrapper:
    """The same weights through ``build_clip(precision=...)``."""
    from ovd_ext.vlm import build_clip
    low = build_clip(clip.name, None, precision=precision)
    low.model.load_state_dict(clip.model.state_dict())
    return low


def make_image(i: int, hw: tuple[int, int]) -> np.ndarray:
    """A deterministic synthetic BGR image with some structure."""
    rng = np.random.default_rng(1000 + i)
    h, w = hw
    img = rng.integers(0, 255, size=(h // 8, w // 8, 3), dtype=np.uint8)
    img = np.kron(img, np.ones((8, 8, 1), dtype=np.uint8))
    return np.ascontiguousarray(img[:h, :w])


def make_regions(i: int, hw: tuple[int, int], k: int) -> torch.Tensor:
    """``k`` deterministic boxes of 16..400 px inside the image."""
    rng = np.random.default_rng(2000 + i)
    h, w = hw
    bw = rng.uniform(16, min(400, w), k)
    bh = rng.uniform(16, min(400, h), k)
    x1 = rng.uniform(0, w - bw)
    y1 = rng.uniform(0, h - bh)
    return torch.tensor(np.stack([x1, y1, x1 + bw, y1 + bh], 1),
                        dtype=torch.float32)


def sequential_embeddings(clip: CLIPWrapper, image: np.ndarray,
                          boxes: torch.Tensor, scales) -> torch.Tensor:
    """(a): one crop per CLIP forward, region after region."""
    rows = [encode_crops(clip, [image], [b[None]], scales=scales,
                         batch_size=1, bgr=True) for b in boxes]
    return combine_scales(torch.cat(rows))


def score_path(path: str, clip: CLIPWrapper, image, boxes, text, scale,
               args) -> torch.Tensor:
    """Class probabilities of the regions of one image with path a/b/c."""
    scales = (1.0, 1.5)
    if path == 'a':
        emb = sequential_embeddings(clip, image, boxes, scales)
    elif path in ('b', 'b16'):
        emb = region_embeddings(clip, image, boxes, 'crops', scales,
                                batch_size=args.batch_size)
    else:
        emb = region_embeddings(clip, image, boxes, 'fast', scales,
                                fast_short_side=args.det_short_side)
    return class_probabilities(emb, text, scale)


def text_embeddings(clip: CLIPWrapper, n: int = 17) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    return torch.nn.functional.normalize(
        torch.randn(n, clip.embed_dim, generator=g), dim=-1)


def time_path(path, clip, args) -> tuple[float, float, list[torch.Tensor]]:
    """Images/s by wall clock and by process CPU time, and the probs."""
    text, scale = text_embeddings(clip), 100.0
    hw = (args.height, args.width)
    score_path(path, clip, make_image(99, hw), make_regions(99, hw, 4),
               text, scale, args)                        # warm-up
    probs, t0, c0 = [], time.perf_counter(), time.process_time()
    for i in range(args.images):
        probs.append(score_path(path, clip, make_image(i, hw),
                                make_regions(i, hw, args.regions), text,
                                scale, args))
    return (args.images / (time.perf_counter() - t0),
            args.images / (time.process_time() - c0), probs)


def child_memory(args) -> None:
    """Score ``--child-images`` images with one path; print peak RSS."""
    clip = build_random_clip(args.child_arch)
    text, hw, labels = text_embeddings(clip), (args.height, args.width), 0
    t0 = time.perf_counter()
    for i in range(args.child_images):
        p = score_path(args.child_path, clip, make_image(i, hw),
                       make_regions(i, hw, args.regions), text, 100.0, args)
        labels += int(p.argmax(-1).sum())              # keep a small result
    print(json.dumps({'peak_rss_mb': resource.getrusage(
        resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        'seconds': time.perf_counter() - t0}))


def measure_memory(path: str, arch: str, n: int, args) -> dict:
    cmd = [sys.executable, __file__, '--child-path', path, '--child-arch',
           arch, '--child-images', str(n), '--regions',
           str(args.mem_regions),
           '--width', str(args.width), '--height', str(args.height),
           '--batch-size', str(args.batch_size), '--det-short-side',
           str(args.mem_short_side), '--threads', str(args.threads)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True,
                         env=dict(os.environ, PYTHONWARNINGS='ignore'))
    return json.loads(out.stdout.strip().splitlines()[-1])


def parse_args():
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument('--archs', nargs='+', default=['ViT-B-16', 'RN50'])
    p.add_argument('--images', type=int, default=1,
                   help='timed images per path (default 1)')
    p.add_argument('--regions', type=int, default=100)
    p.add_argument('--width', type=int, default=640)
    p.add_argument('--height', type=int, default=480)
    p.add_argument('--batch-size', type=int, default=8,
                   help='crops per CLIP call in path (b)')
    p.add_argument('--det-short-side', type=int, default=800,
                   help='detection resolution of path (c)')
    p.add_argument('--threads', type=int, default=1,
                   help='torch threads (default 1: on a 2-core machine '
                   'shared with other jobs, 2 OpenMP threads make every '
                   'batch-1 call wait for a busy core and inflate (b)/(a))')
    p.add_argument('--mem-images', type=int, nargs='*', default=[100, 1000])
    p.add_argument('--mem-paths', nargs='*', default=['c'],
                   help='paths whose peak RSS is measured (b and/or c)')
    p.add_argument('--mem-arch', default='RN50')
    p.add_argument('--mem-regions', type=int, default=10,
                   help='regions per image in the memory runs (default 10: '
                   "each region costs an attention pool over 50 tokens of "
                   "2048 channels in RN50's head)")
    p.add_argument('--mem-short-side', type=int, default=224,
                   help="shared-pass short side of path (c) in the memory "
                   "runs (default 224, so that 1000 images take minutes; "
                   "RSS growth over images does not depend on it)")
    p.add_argument('--child-path', help=argparse.SUPPRESS)
    p.add_argument('--child-arch', help=argparse.SUPPRESS)
    p.add_argument('--child-images', type=int, help=argparse.SUPPRESS)
    return p.parse_args()


def main() -> int:
    args = parse_args()
    torch.set_num_threads(args.threads)
    if args.child_path:
        child_memory(args)
        return 0
    print(f'{args.images} images {args.width}x{args.height}, {args.regions} '
          f'regions x 2 scales each, {args.threads} threads, random weights',
          flush=True)
    rows = []
    for arch in args.archs:
        clip = build_random_clip(arch)
        paths = ['a', 'b', 'b16'] + (['c'] if clip.kind == 'resnet' else [])
        clip16 = low_precision_copy(clip, 'bf16')
        speed, cpu, probs = {}, {}, {}
        for path in paths:
            speed[path], cpu[path], probs[path] = time_path(
                path, clip16 if path == 'b16' else clip, args)
            print(f'  {arch:9s} ({path}) {speed[path]:7.4f} images/s '
                  f'({1 / speed[path]:6.1f} s/image wall, '
                  f'{1 / cpu[path]:6.1f} s/image CPU)', flush=True)
        pa = torch.cat(probs['a'])
        agree = {}
        for q in ('b', 'b16'):
            pq = torch.cat(probs[q])
            agree[q] = (float((pa.argmax(-1) == pq.argmax(-1)).float().mean()),
                        float((pa - pq).abs().max()))

        def ratios(r):
            return ', '.join(f'({q})/(a) = {r[q] / r["a"]:.2f}x'
                             for q in paths[1:])
        line = (f'{arch}: wall {ratios(speed)}; CPU time {ratios(cpu)}; '
                + '; '.join(f'labels (a) == ({q}): {a * 100:.1f} % of '
                            f'{len(pa)} regions, max |p_a - p_{q}| = {d:.2e}'
                            for q, (a, d) in agree.items()))
        rows.append(line)
        print(line, flush=True)
    print('\nsummary')
    for line in rows:
        print('  ' + line)
    for path in args.mem_paths:
        for n in args.mem_images:
            m = measure_memory(path, args.mem_arch, n, args)
            side = (f', short side {args.mem_short_side}' if path == 'c'
                    else '')
            print(f'  peak RSS ({path}) {args.mem_arch}{side}, '
                  f'{args.mem_regions} regions, {n:5d} images: '
                  f'{m["peak_rss_mb"]:8.1f} MB  ({m["seconds"]:.0f} s)',
                  flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
