"""Teacher vs student time of RegionCLIP pretraining (Sec. 3, Fig. 2 panel 2),
measured in one run.

``RegionCLIPPretrainer`` scores every proposal (100 per image, Sec. 4.1) with
the frozen teacher under ``torch.no_grad``: one dense pass per image and ONE
batched RoIAlign call for all boxes of the batch. This checks that the
teacher does not dominate a training step. Per tower (open_clip
architectures at RANDOM weights: weights do not change speed, nothing is
downloaded) on a synthetic batch (random normalised images, ``--regions``
random boxes per image, one caption, a random concept pool of
``--concepts`` entries):

  teacher   ``model.teacher_similarities(inputs, boxes)`` alone (Eq. 1);
  step      ``model.loss(inputs, samples)`` + backward of the summed losses
            (no optimizer update);
  student   step - teacher: the student's image tower forward + backward,
            plus the caption encoding by the frozen text tower and the
            three losses of Eq. 5.

Each figure is the median over ``--tiny-steps`` / ``--rn50-steps`` timed
repeats after ``--warmup`` untimed ones, teacher and step taking turns (wall
clock; the teacher's share of the process CPU time is printed too). Then,
for ``ovd-tiny-rn`` only, one image with ``--naive-regions`` boxes is scored
by the teacher in three ways (median of at most 3 repeats):

  batched     ``teacher_similarities`` (one dense pass, one RoIAlign call);
  per-region  one dense pass, then ``pool_regions`` once PER BOX (one
              RoIAlign call + region head per box) -- what the pretrainer
              avoids;
  per-region+ the dense pass repeated for every box as well;

with the ratios per-region / batched and the largest difference of the
similarities (should be ~1e-6: same numbers, other batching). The peak RSS
column is the process's peak so far (``resource.getrusage``), read after
each tower's steps.

  python benchmarks/regionclip_pretrain_speed.py            # ~2-3 min, 2 cores
  python benchmarks/regionclip_pretrain_speed.py --threads 1   # shared CPU
  python benchmarks/regionclip_pretrain_speed.py --towers ovd-tiny-rn \\
      --tiny-steps 10
  python benchmarks/regionclip_pretrain_speed.py --towers RN50 \\
      --rn50-size 448 --rn50-batch 4 --threads 16
"""
from __future__ import annotations

import argparse
import os.path as osp
import resource
import statistics
import sys
import tempfile
import time
from typing import Callable

import numpy as np
import torch

MEAN = [122.7709383, 116.7460125, 104.09373615]
STD = [68.5005327, 66.6321579, 70.32316305]


def build_pretrainer(name: str, concepts: int, tmp: str):
    """``RegionCLIPPretrainer`` with a random CLIP ``name`` and a random
    concept pool of ``concepts`` entries written under ``tmp``."""
    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules

    import open_clip

    import ovd_ext  # noqa: F401  (registers ovd_ext's model configs)
    from ovd_ext.vlm.vocabulary import save_class_embeddings
    register_all_modules(init_default_scope=True)
    config = open_clip.get_model_config(name)
    if config is None:
        raise KeyError(f'{name}: no open_clip / ovd_ext model config')
    dim = config['embed_dim']
    path = osp.join(tmp, f'concepts_{name}.npy')
    rng = np.random.default_rng(0)
    save_class_embeddings(path, rng.normal(size=(concepts, dim)),
                          [f'c{i}' for i in range(concepts)], model='random',
                          prompts='none')
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='RegionCLIPPretrainer',
        clip=dict(name=name, checkpoint=None), concepts=path,
        data_preprocessor=dict(type='DetDataPreprocessor', mean=MEAN,
                               std=STD, bgr_to_rgb=True,
                               pad_size_divisor=32)))
    model.train()
    return model


def random_boxes(rng: np.random.Generator, size: int,
                 k: int) -> torch.Tensor:
    """``k`` valid xyxy boxes of 8 px .. the image side inside a ``size``
    square."""
    bw = rng.uniform(8, size, k)
    bh = rng.uniform(8, size, k)
    x1 = rng.uniform(0, size - bw)
    y1 = rng.uniform(0, size - bh)
    return torch.tensor(np.stack([x1, y1, x1 + bw, y1 + bh], 1),
                        dtype=torch.float32)


def synthetic_batch(batch: int, size: int, regions: int, seed: int = 0):
    """Normalised images ``[B, 3, size, size]`` and one ``DetDataSample``
    per image (img_shape, caption, ``regions`` proposals)."""
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData
    g = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    inputs = torch.randn(batch, 3, size, size, generator=g)
    samples = []
    for _ in range(batch):
        s = DetDataSample(metainfo=dict(img_shape=(size, size),
                                        ori_shape=(size, size),
                                        caption='a photo of a thing'))
        s.proposals = InstanceData(bboxes=random_boxes(rng, size, regions))
        samples.append(s)
    return inputs, samples


def timed(fns: dict[str, Callable[[], object]], steps: int,
          warmup: int) -> dict[str, tuple[float, float]]:
    """Per function, median wall and process-CPU seconds over ``steps``
    calls after ``warmup`` untimed ones. The functions take turns (one call
    each per round) so that load from other jobs hits them alike."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    wall = {k: [] for k in fns}
    cpu = {k: [] for k in fns}
    for _ in range(steps):
        for k, fn in fns.items():
            t0, c0 = time.perf_counter(), time.process_time()
            fn()
            wall[k].append(time.perf_counter() - t0)
            cpu[k].append(time.process_time() - c0)
    return {k: (statistics.median(wall[k]), statistics.median(cpu[k]))
            for k in fns}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def measure_tower(model, size: int, batch: int, steps: int, args) -> dict:
    """Teacher and full-step medians for one tower."""
    inputs, samples = synthetic_batch(batch, size, args.regions)
    boxes = [s.proposals.bboxes for s in samples]

    def teacher():
        return model.teacher_similarities(inputs, boxes)

    def step():
        losses = model.loss(inputs, samples)
        total = sum(v for k, v in losses.items() if k.startswith('loss'))
        total.backward()
        model.zero_grad(set_to_none=True)

    t = timed(dict(teacher=teacher, step=step), steps, args.warmup)
    return dict(teacher=t['teacher'][0], step=t['step'][0],
                teacher_cpu=t['teacher'][1], step_cpu=t['step'][1],
                rss=peak_rss_mb())


def measure_naive(model, size: int, regions: int, steps: int,
                  args) -> dict:
    """Teacher on one image: batched vs one ``pool_regions`` per box."""
    from ovd_ext.models.detectors.regionclip_pretrainer import LAYER
    from ovd_ext.vlm.dense import dense_features, pool_regions
    inputs, samples = synthetic_batch(1, size, regions, seed=1)
    boxes = samples[0].proposals.bboxes
    teacher, concepts = model.teacher, model.concepts

    def batched():
        return model.teacher_similarities(inputs, [boxes])

    def per_region():
        with torch.no_grad():
            feats = dense_features(teacher, inputs, LAYER)
            emb = torch.cat([pool_regions(teacher, feats, [b[None]],
                                          layer=LAYER) for b in boxes])
            return emb @ concepts.t()

    def per_region_dense():
        with torch.no_grad():
            emb = torch.cat([pool_regions(
                teacher, dense_features(teacher, inputs, LAYER), [b[None]],
                layer=LAYER) for b in boxes])
            return emb @ concepts.t()

    diff = max(float((batched() - f()).abs().max())
               for f in (per_region, per_region_dense))
    t = timed(dict(batched=batched, per_region=per_region,
                   per_region_dense=per_region_dense), steps, args.warmup)
    return dict(diff=diff, **t)


def parse_args():
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument('--towers', nargs='+', default=['ovd-tiny-rn', 'RN50'],
                   help='open_clip / ovd_ext model-config names (ResNets)')
    p.add_argument('--tiny-size', type=int, default=384,
                   help='image side for ovd-tiny-rn (default 384)')
    p.add_argument('--tiny-batch', type=int, default=8)
    p.add_argument('--rn50-size', type=int, default=224,
                   help='image side for every other tower (default 224: '
                   'a detection-sized 448 is too slow on 2 cores)')
    p.add_argument('--rn50-batch', type=int, default=2)
    p.add_argument('--regions', type=int, default=100,
                   help='proposals per image (default 100, Sec. 4.1)')
    p.add_argument('--concepts', type=int, default=100,
                   help='size of the random concept pool')
    p.add_argument('--tiny-steps', type=int, default=5,
                   help='timed repeats for ovd-tiny-rn (and the '
                   'per-region comparison), median reported')
    p.add_argument('--rn50-steps', type=int, default=2,
                   help='timed repeats for every other tower (default 2: '
                   'an RN50 step with 100 regions takes ~30 s on 1 core)')
    p.add_argument('--warmup', type=int, default=1)
    p.add_argument('--naive-regions', type=int, default=20,
                   help='boxes of the per-region comparison, done on '
                   'ovd-tiny-rn only (0: skip)')
    p.add_argument('--threads', type=int, default=None,
                   help='torch threads (default: what torch picks). On a '
                   'machine shared with other jobs --threads 1 is much '
                   'steadier: OpenMP threads waiting for a busy core '
                   'inflate the wall times several-fold')
    return p.parse_args()


def main() -> int:
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f'{args.regions} regions/image, {args.concepts} concepts, median '
          f'of {args.tiny_steps} (tiny) / {args.rn50_steps} (others) steps '
          f'after {args.warmup} warm-up, {torch.get_num_threads()} threads, '
          'CPU, random weights', flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        naive = None
        for name in args.towers:
            tiny = name == 'ovd-tiny-rn'
            size = args.tiny_size if tiny else args.rn50_size
            batch = args.tiny_batch if tiny else args.rn50_batch
            steps = args.tiny_steps if tiny else args.rn50_steps
            model = build_pretrainer(name, args.concepts, tmp)
            r = measure_tower(model, size, batch, steps, args)
            r.update(name=name, size=size, batch=batch)
            rows.append(r)
            print(f'  {name}: teacher {r["teacher"] * 1e3:.0f} ms, step '
                  f'{r["step"] * 1e3:.0f} ms', flush=True)
            if tiny and args.naive_regions > 0:
                naive = measure_naive(model, size, args.naive_regions,
                                      min(steps, 3), args)
            del model
    head = (f'{"tower":12s} {"input":>11s} {"teacher":>10s} {"student":>10s} '
            f'{"teacher":>8s} {"(CPU)":>6s} {"step":>8s} {"peak RSS":>9s}')
    print('\n' + head)
    print(f'{"":12s} {"BxHxW":>11s} {"ms/step":>10s} {"fwd+bwd ms":>10s} '
          f'{"share":>8s} {"share":>6s} {"img/s":>8s} {"MB":>9s}')
    for r in rows:
        inp = f'{r["batch"]}x{r["size"]}x{r["size"]}'
        student = r['step'] - r['teacher']
        print(f'{r["name"]:12s} {inp:>11s} {r["teacher"] * 1e3:10.1f} '
              f'{student * 1e3:10.1f} '
              f'{100 * r["teacher"] / r["step"]:7.1f}% '
              f'{100 * r["teacher_cpu"] / r["step_cpu"]:5.1f}% '
              f'{r["batch"] / r["step"]:8.2f} {r["rss"]:9.0f}')
    if naive is not None:
        n = naive
        print(f'\nteacher on one {args.tiny_size}px image, '
              f'{args.naive_regions} regions (ovd-tiny-rn):')
        base_wall, base_cpu = n['batched']
        for key, label in (
                ('batched', 'batched (1 dense pass, 1 RoIAlign call)'),
                ('per_region', 'per-region (1 dense pass, RoIAlign per box)'),
                ('per_region_dense', 'per-region + dense pass per box')):
            wall, cpu = n[key]
            print(f'  {label:44s} {wall * 1e3:8.1f} ms = '
                  f'{wall / base_wall:5.1f}x batched '
                  f'(CPU {cpu * 1e3:8.1f} ms = {cpu / base_cpu:5.1f}x)')
        print(f'  max |similarity difference| = {n["diff"]:.1e}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
