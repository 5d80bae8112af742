"""Pseudo-label quality as in VL-PLM Table 4: AP@PL and #@PL.

AP@PL is the box AP50 of the pseudo labels against the ground truth of the
target classes (ranked by the pseudo label score); #@PL the number of pseudo
labels per image. By default, as the paper, only images with at least one
target-class ground-truth box are evaluated (--images all: every image of the
pseudo-label json).

Pseudo masks (e.g. XPM's): when the pseudo labels carry a ``segmentation``
and the ground truth has masks, it also prints the mask AP@PL (the same
protocol with mask IoU), the mask mIoU@PL (mean IoU of each pseudo mask with
its best ground-truth mask of the same class and image, 0 where none) and the
share of pseudo masks with IoU >= 0.5; --out holds these too.

  python tools/analysis/pseudo_label_quality.py \\
      data/ovd_shapes/annotations/instances_train.json \\
      data/ovd_shapes/pseudo_labels/vl-plm_novel_train.json \\
      --targets star,ring,house,fish,mushroom \\
      --draw 8 --img-dir data/ovd_shapes/images --out-dir work_dirs/pl_vis
"""
from __future__ import annotations

import argparse
import sys
from typing import Sequence

from ovd_ext.pseudo_labels import (IMAGE_SETS, draw_pseudo_labels,
                                   pseudo_label_quality)
from ovd_ext.utils.io import write_json_atomic


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument('gt_json', help='ground-truth COCO json')
    p.add_argument('pl_json', help='pseudo-label json')
    p.add_argument('--targets', default=None,
                   help='comma-separated target classes (default: all)')
    p.add_argument('--images', default='with-target-gt', choices=IMAGE_SETS)
    p.add_argument('--out', help='write the numbers to this json')
    p.add_argument('--draw', type=int, default=0, metavar='N',
                   help='draw the pseudo labels of N images (PNG)')
    p.add_argument('--img-dir', default='', help='image folder (--draw)')
    p.add_argument('--out-dir', default='work_dirs/pseudo_label_vis')
    args = p.parse_args(argv)
    targets = ([t.strip() for t in args.targets.split(',') if t.strip()]
               if args.targets else None)
    res = pseudo_label_quality(args.gt_json, args.pl_json, targets,
                               args.images)
    print(f"AP@PL {res['AP@PL']:.1f}   #@PL {res['#@PL']:.2f}   "
          f"({res['num_pl']} pseudo labels, {res['num_gt']} gt boxes, "
          f"{res['num_images']} images)")
    for name, ap in res['per_class_AP50'].items():
        print(f'  {name:20s} AP50 {ap:.1f}')
    if 'mask AP@PL' in res:
        print(f"mask AP@PL {res['mask AP@PL']:.1f}   "
              f"mask AP@PL[0.5:0.95] {res['mask AP@PL[0.5:0.95]']:.1f}   "
              f"mask mIoU@PL {res['mask mIoU@PL']:.1f}   "
              f"mask IoU>=0.5@PL {res['mask IoU>=0.5@PL']:.1f}%")
        if res['num_pl_without_mask']:
            print(f"  {res['num_pl_without_mask']} pseudo labels without a "
                  'mask left out of the mask numbers')
    if res.get('dropped'):
        print('left out: ' + ', '.join(f'{n} {k}'
                                       for k, n in res['dropped'].items()))
    if args.out:
        write_json_atomic(args.out, res)
    if args.draw:
        paths = draw_pseudo_labels(args.pl_json, args.img_dir, args.out_dir,
                                   args.draw, gt_json=args.gt_json,
                                   targets=targets)
        print(f'drew {len(paths)} images to {args.out_dir}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
