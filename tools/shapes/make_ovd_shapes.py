"""Generate the OVD-Shapes benchmark (images + COCO/LVIS/caption/label jsons).

Example::

    python tools/shapes/make_ovd_shapes.py --out data/ovd_shapes --seed 0
"""
from __future__ import annotations

import argparse
import json
import time

from ovd_ext.shapes import DEFAULTS, generate_ovd_shapes


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--out', default='data/ovd_shapes', help='output directory')
    p.add_argument('--num-train', type=int, default=DEFAULTS['num_train'])
    p.add_argument('--num-val', type=int, default=DEFAULTS['num_val'])
    p.add_argument('--num-imagelabel', type=int,
                   default=DEFAULTS['num_imagelabel'])
    p.add_argument('--seed', type=int, default=DEFAULTS['seed'])
    p.add_argument('--workers', type=int, default=1,
                   help='processes (output is identical for any value)')
    p.add_argument('--no-progress', action='store_true')
    return p.parse_args()


def main() -> None:
    args = parse_args()
    start = time.perf_counter()
    paths = generate_ovd_shapes(args.out, args.num_train, args.num_val,
                                args.num_imagelabel, args.seed,
                                workers=args.workers,
                                progress=not args.no_progress)
    print(json.dumps(paths, indent=1))
    print(f'OVD-Shapes written to {args.out} in '
          f'{time.perf_counter() - start:.1f} s')


if __name__ == '__main__':
    main()
