"""Zero-shot top-1 of a (tiny) CLIP on ground-truth crops of OVD-Shapes val.

Crops at 1x and 1.5x the GT box (``ovd_ext.vlm.encode_crops``) are classified
against prompt-ensembled class embeddings (``encode_text``, imagenet80); the
``sum`` row adds both crops' embeddings (VL-PLM Eq. 5). Example::

    python tools/shapes/eval_tiny_clip.py --model ovd-tiny-vit \\
        --checkpoint checkpoints/ovd_shapes/ovd-tiny-vit.pt
"""
from __future__ import annotations

import argparse
import os.path as osp

import torch

from ovd_ext.shapes.tiny_clip import zero_shot_report
from ovd_ext.utils.io import write_json_atomic
from ovd_ext.vlm import build_clip


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--model', default='ovd-tiny-vit',
                   help='open_clip architecture name')
    p.add_argument('--checkpoint', default=None,
                   help='weights (default: checkpoints/ovd_shapes/<model>.pt)')
    p.add_argument('--data', default='data/ovd_shapes',
                   help='OVD-Shapes root')
    p.add_argument('--split', default='val', help='annotation split')
    p.add_argument('--templates', default='imagenet80',
                   help="template set: 'imagenet80', 'short' or 'single'")
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--out', default=None, help='write the result as json')
    return p.parse_args()


def format_table(result: dict) -> str:
    """Rows ``variant: all / base / novel top-1 (n crops)``."""
    lines = [f'{"crops":>6}  {"all":>6}  {"base":>6}  {"novel":>6}  n']
    for k, r in result.items():
        lines.append(f'{k:>6}  {100 * r["all"]:6.2f}  {100 * r["base"]:6.2f}'
                     f'  {100 * r["novel"]:6.2f}  {r["n"]}')
    return '\n'.join(lines)


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    ckpt = args.checkpoint or osp.join('checkpoints', 'ovd_shapes',
                                       f'{args.model}.pt')
    result = zero_shot_report(build_clip(args.model, ckpt), args.data,
                           args.split, args.templates)
    print(f'{args.model} ({ckpt}) zero-shot top-1 on {args.split} GT crops, '
          f'templates={args.templates}')
    print(format_table(result['results']))
    print('per class (1.0x): ' + ', '.join(
        f'{c} {100 * a:.0f}' for c, a in result['per_class_1.0x'].items()))
    if args.out:
        write_json_atomic(args.out, result, indent=1)


if __name__ == '__main__':
    main()
