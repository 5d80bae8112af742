"""Forward time and peak memory of DITO's backbone attention layouts, and the
REP step split into backbone and heads, measured in one run.

Backbone (``WindowedCLIPViT``, open_clip ViT-B/16 at RANDOM weights: weights
do not change speed, nothing is downloaded) on ``--size`` x ``--size``
images (default 1024: a 64 x 64 patch grid), ``--batch`` images, no grad:

  window    windowed attention, window 16 (K = 4), 4 global blocks (ViTDet);
  swl       + shifted-window learning (DITO Algorithm 1: both passes as one
            batch of 2B, border masks);
  global    global attention in every block.

Goal (issue): swl / window <= 2.05 (the second pass and nothing more) and
swl's peak memory below global's. Each layout runs in its own subprocess so
that its peak resident memory (``ru_maxrss`` minus the RSS after building
the model) is its own; on a GPU (``--device cuda``) the peak is
``torch.cuda.max_memory_allocated``. Times are medians over ``--steps``
repeats after one warm-up.

REP (``RegionCentricPretrainer``, Sec. 3.2) at 256 x 256 (the paper's REP
size), ``--rep-batch`` images, the paper's 400/200/100/50 boxes per level:
``backbone`` = the frozen ViT forward under no_grad, ``step`` = loss +
backward of the whole pretrainer, ``heads`` = step - backbone (SimpleFPN,
RoIAlign, box head, RPN objectness, losses, backward).

  python benchmarks/dito_backbone_speed.py                 # ~5 min, 2 cores
  python benchmarks/dito_backbone_speed.py --size 512 --steps 2
  python benchmarks/dito_backbone_speed.py --device cuda --batch 2
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

LAYOUTS = {
    'window': dict(window_size=16, num_global=4, shifted=False),
    'swl': dict(window_size=16, num_global=4, shifted=True),
    'global': dict(window_size=None),
}


def _rss_mib() -> float:
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE') / 2**20


def _sync(device: str) -> None:
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def run_layout(layout: str, args) -> dict:
    """Time and peak memory of one backbone layout (child process)."""
    import ovd_ext  # noqa: F401
    from ovd_ext.models.backbones import WindowedCLIPViT
    torch.manual_seed(0)
    bb = WindowedCLIPViT(dict(type='OpenCLIP', name=args.model,
                              checkpoint=None), **LAYOUTS[layout])
    bb = bb.to(args.device).eval()
    x = torch.randn(args.batch, 3, args.size, args.size, device=args.device)
    base = _rss_mib()
    if args.device.startswith('cuda'):
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated() / 2**20
    times = []
    with torch.no_grad():
        for i in range(args.steps + 1):
            _sync(args.device)
            t = time.perf_counter()
            bb(x)
            _sync(args.device)
            if i:
                times.append(time.perf_counter() - t)
    if args.device.startswith('cuda'):
        peak = torch.cuda.max_memory_allocated() / 2**20 - base
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - base
    return dict(seconds=statistics.median(times), peak_mib=peak)


def run_rep(args) -> dict:
    """Backbone vs heads time of one REP step (child process)."""
    import ovd_ext  # noqa: F401
    from mmdet.registry import MODELS
    from mmdet.structures import DetDataSample
    from mmdet.utils import register_all_modules
    from ovd_ext.vlm import save_class_embeddings
    register_all_modules()
    torch.manual_seed(0)
    tmp = tempfile.mkdtemp()
    vocab = os.path.join(tmp, 'vocab.npy')
    emb = np.random.randn(2, 512).astype(np.float32)
    save_class_embeddings(vocab, emb / np.linalg.norm(emb, axis=1,
                                                      keepdims=True),
                          ['background', 'object'], model=args.model)
    clip = dict(type='OpenCLIP', name=args.model, checkpoint=None)
    model = MODELS.build(dict(
        type='RegionCentricPretrainer', clip=clip,
        backbone=dict(type='WindowedCLIPViT', clip=clip, window_size=None),
        neck=dict(type='SimpleFPN', in_channels=768, out_channels=256),
        rpn_head=dict(type='RPNHead', in_channels=256, feat_channels=256,
                      anchor_generator=dict(type='AnchorGenerator',
                                            scales=[8],
                                            ratios=[0.5, 1.0, 2.0],
                                            strides=[4, 8, 16, 32, 64])),
        roi_head=dict(
            bbox_roi_extractor=dict(
                type='SingleRoIExtractor',
                roi_layer=dict(type='RoIAlign', output_size=7,
                               sampling_ratio=2),
                out_channels=256, featmap_strides=[4, 8, 16, 32]),
            bbox_head=dict(type='CLIPBBoxHead', in_channels=256,
                           fc_out_channels=1024, roi_feat_size=7,
                           vocabulary=vocab, bg_embedding='text'))))
    model = model.to(args.device).train()
    size = 256
    x = torch.randn(args.rep_batch, 3, size, size, device=args.device)
    samples = []
    for i in range(args.rep_batch):
        s = DetDataSample(metainfo=dict(img_shape=(size, size),
                                        caption=f'a photo of thing {i}'))
        samples.append(s)
    back, step = [], []
    for i in range(args.steps + 1):
        _sync(args.device)
        t = time.perf_counter()
        with torch.no_grad():
            model.backbone(x)
        _sync(args.device)
        t1 = time.perf_counter()
        losses = model.loss(x, samples)
        sum(v for k, v in losses.items() if k.startswith('loss')).backward()
        _sync(args.device)
        t2 = time.perf_counter()
        if i:
            back.append(t1 - t)
            step.append(t2 - t1)
    b, s = statistics.median(back), statistics.median(step)
    return dict(backbone=b, step=s, heads=s - b)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--model', default='ViT-B-16')
    p.add_argument('--size', type=int, default=1024)
    p.add_argument('--batch', type=int, default=1)
    p.add_argument('--rep-batch', type=int, default=2)
    p.add_argument('--steps', type=int, default=3)
    p.add_argument('--device', default='cpu')
    p.add_argument('--threads', type=int, default=None)
    p.add_argument('--child', default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.child:
        out = run_rep(args) if args.child == 'rep' else run_layout(
            args.child, args)
        print('RESULT ' + json.dumps(out))
        return
    results = {}
    for name in list(LAYOUTS) + ['rep']:
        cmd = [sys.executable, __file__, '--child', name] + [
            a for a in sys.argv[1:]]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        line = [x for x in proc.stdout.splitlines() if x.startswith('RESULT ')]
        if proc.returncode or not line:
            sys.exit(f'{name} failed:\n{proc.stderr[-3000:]}')
        results[name] = json.loads(line[0][7:])
    print(f'{args.model}, {args.batch} x {args.size}^2, {args.device}, '
          f'{torch.get_num_threads()} threads, median of {args.steps}')
    print(f"{'layout':8s} {'forward s':>10s} {'x window':>9s} "
          f"{'peak MiB':>9s} {'x global':>9s}")
    w, g = results['window'], results['global']
    for name in LAYOUTS:
        r = results[name]
        print(f"{name:8s} {r['seconds']:10.3f} "
              f"{r['seconds'] / w['seconds']:9.2f} {r['peak_mib']:9.0f} "
              f"{r['peak_mib'] / g['peak_mib']:9.2f}")
    s = results['swl']
    print(f"goal: swl / window = {s['seconds'] / w['seconds']:.2f} "
          f"(<= 2.05: {s['seconds'] / w['seconds'] <= 2.05}); swl peak "
          f"< global peak: {s['peak_mib'] < g['peak_mib']}")
    r = results['rep']
    print(f"REP step (256^2, batch {args.rep_batch}, 750 boxes/image): "
          f"step {r['step']:.3f} s = backbone (frozen, no grad) "
          f"{r['backbone']:.3f} s ({r['backbone'] / r['step']:.0%}) + heads "
          f"{r['heads']:.3f} s ({r['heads'] / r['step']:.0%})")


if __name__ == '__main__':
    main()
