"""Train a project tiny CLIP on OVD-Shapes TRAIN image-text pairs (CPU).

The tiny CLIP has seen every class, base and novel, as web CLIP has
(DESIGN.md §4). Pairs: GT object crops with templated class descriptions,
image-label images with their label, whole images with their captions
(``ovd_ext.shapes.tiny_clip``, trained by ``ovd_ext.vlm.training``).
Writes the fp16 weights (loadable by ``ovd_ext.vlm.build_clip``) and
``<name>.provenance.json`` next to them, both atomically. Example (the
committed checkpoints)::

    python tools/shapes/make_ovd_shapes.py --out data/ovd_shapes --seed 0
    python tools/shapes/train_tiny_clip.py --model ovd-tiny-vit
    python tools/shapes/train_tiny_clip.py --model ovd-tiny-rn

Interrupted runs continue with ``--resume`` (state in ``--work-dir``).
"""
from __future__ import annotations

import argparse
import os
import os.path as osp
import shlex
import sys
import time

# On a shared, oversubscribed CPU spinning OpenMP workers wait for each other
# (measured: 2 threads 7x slower than 1); passive waiting avoids that. Must be
# set before torch starts its thread pool.
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

import torch  # noqa: E402

from ovd_ext.shapes.tiny_clip import RECIPES, run_recipe  # noqa: E402


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument('--model', default='ovd-tiny-vit', choices=sorted(RECIPES),
                   help='open_clip architecture (ovd_ext/vlm/model_configs)')
    p.add_argument('--data', default='data/ovd_shapes',
                   help='OVD-Shapes root (train split is used, never val)')
    p.add_argument('--out', default=None, help='weights file (default: '
                   'checkpoints/ovd_shapes/<model>.pt)')
    p.add_argument('--work-dir', default=None, help='resume state folder '
                   '(default: work_dirs/tiny_clip/<model>)')
    p.add_argument('--resume', action='store_true',
                   help='continue from <work-dir>/resume.pth if present')
    p.add_argument('--seed', type=int, default=None,
                   help='model init and data order (default: the recipe)')
    p.add_argument('--steps', type=int, default=None)
    p.add_argument('--batch-size', type=int, default=None)
    p.add_argument('--lr', type=float, default=None)
    p.add_argument('--text-init', default=None,
                   help="weights whose text tower starts this model (default:"
                   " the recipe's, e.g. ovd-tiny-vit starts from "
                   "<out dir>/ovd-tiny-rn.pt)")
    p.add_argument('--teacher', default=None,
                   help="weights of the recipe's distillation teacher "
                   '(default: <out dir>/<teacher>.pt)')
    p.add_argument('--threads', type=int, default=2,
                   help='torch CPU threads')
    p.add_argument('--no-eval', action='store_true',
                   help='skip the zero-shot evaluation on val GT crops')
    p.add_argument('--no-progress', action='store_true')
    return p.parse_args()


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    out = args.out or osp.join('checkpoints', 'ovd_shapes', f'{args.model}.pt')
    work_dir = args.work_dir or osp.join('work_dirs', 'tiny_clip', args.model)
    overrides = {k: v for k, v in dict(
        seed=args.seed, steps=args.steps, batch_size=args.batch_size,
        lr=args.lr).items() if v is not None}
    command = ' '.join(['python', shlex.quote(sys.argv[0])]
                       + [shlex.quote(a) for a in sys.argv[1:]])
    start = time.perf_counter()
    prov = run_recipe(args.model, args.data, out, work_dir=work_dir,
                      overrides=overrides, resume=args.resume,
                      evaluate=not args.no_eval,
                      progress=not args.no_progress, command=command,
                      threads=args.threads, text_init=args.text_init,
                      teacher=args.teacher)
    print(f'weights: {out} ({prov["checkpoint"]["bytes"] / 2**20:.2f} MiB)')
    print(f'provenance: {prov["provenance_file"]}')
    print(f'training: {prov["training"]["seconds_total"]:.0f} s, final loss '
          f'{prov["training"]["final_loss"]:.3f}')
    for k, r in prov.get('zero_shot_val', {}).get('results', {}).items():
        print(f'zero-shot val {k:>5}: all {100 * r["all"]:.2f}  base '
              f'{100 * r["base"]:.2f}  novel {100 * r["novel"]:.2f}')
    print(f'total {time.perf_counter() - start:.0f} s')


if __name__ == '__main__':
    main()
