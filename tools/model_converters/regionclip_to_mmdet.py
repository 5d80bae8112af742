"""Convert an official RegionCLIP checkpoint (microsoft/RegionCLIP, e.g.
regionclip_finetuned-coco_rn50.pth or regionclip_pretrained-cc_rn50.pth) to
the state-dict keys of ovd_ext's RegionCLIP detector.

Prints a report (tensors converted per group, keys dropped and why, keys not
matched, layout notes for the config). Source keys that are neither converted
nor known to be droppable stop the conversion unless --allow-unmatched.

Example:
  python tools/model_converters/regionclip_to_mmdet.py \\
      regionclip_finetuned-coco_rn50.pth regionclip_coco_rn50_mmdet.pth \\
      --save-classifier coco_48_base_regionclip.npy
"""
from __future__ import annotations

import argparse
import sys
from typing import Sequence

from ovd_ext.apis.converters import convert_regionclip_file


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument('src', help='RegionCLIP checkpoint (.pth)')
    p.add_argument('dst', help='converted checkpoint to write (.pth)')
    p.add_argument('--save-classifier', metavar='X.npy',
                   help='also write the text classifier cls_score.weight '
                   '(float32 [C, D], unit rows)')
    p.add_argument('--allow-unmatched', action='store_true',
                   help='convert even if some source keys are not matched '
                   '(they are listed in the report)')
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.save_classifier and not args.save_classifier.endswith('.npy'):
        raise SystemExit(f'--save-classifier must end with .npy, got '
                         f'{args.save_classifier}')
    try:
        report = convert_regionclip_file(args.src, args.dst,
                                         args.save_classifier,
                                         args.allow_unmatched)
    except (ValueError, FileNotFoundError) as e:
        raise SystemExit(f'error: {e}') from None
    print(report.format())
    print(f'wrote {args.dst}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
