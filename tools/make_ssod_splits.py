"""Make semi-supervised COCO splits (VL-PLM Sec. 4.2; STAC's protocol).

For every seed (fold) and percent, writes the labeled split (that percent of
the images, drawn with the seed, with all their annotations) and the unlabeled
split (the other images, no annotations):

  OUT/instances_train2017.{seed}@{percent}.json
  OUT/instances_train2017.{seed}@{percent}-unlabeled.json

Example (1/2/5/10 %, fold 1, as the configs in configs/vl_plm/ expect):
  python tools/make_ssod_splits.py data/coco/annotations/instances_train2017.json \\
      --out-dir data/coco/semi_anns --percents 1 2 5 10 --seeds 1
"""
from __future__ import annotations

import argparse
import sys
from typing import Sequence

from ovd_ext.pseudo_labels.vl_plm.ssod_splits import (PERCENTS,
                                                    make_ssod_splits)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument('ann_file', help='COCO training json')
    p.add_argument('--out-dir', required=True)
    p.add_argument('--percents', type=float, nargs='+', default=list(PERCENTS))
    p.add_argument('--seeds', type=int, nargs='+', default=[1])
    p.add_argument('--prefix', default=None,
                   help='file name prefix (default: the json stem)')
    args = p.parse_args(argv)
    paths = make_ssod_splits(args.ann_file, args.out_dir, args.percents,
                             args.seeds, args.prefix)
    for path in paths:
        print(path)
    return 0


if __name__ == '__main__':
    sys.exit(main())
