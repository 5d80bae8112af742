"""Generate pseudo labels for the images of a COCO-format json with the
labeler a config declares (its `pseudo_labeler = dict(type=...)` block; e.g.
VL-PLM: a class-agnostic two-stage detector proposes and refines regions,
CLIP names them; shared/papers/vl-plm.txt; library: ovd_ext.pseudo_labels).

The output is a COCO json with the source dataset's images and categories
whose annotations carry `score` and `pseudo: true` (DESIGN.md §3), plus a
`<out stem>.report.json` (counts, skipped images, dropped labels). Settings
of the labeler are changed with --cfg-options pseudo_labeler.KEY=VALUE; the
images (--ann-file, --img-dir) default to the config's training set and
--out to its pseudo_ann_file.

OVD-Shapes (novel classes; the proposal generator trained first):
  python tools/gen_pseudo_labels.py \\
      configs/vl_plm/mask-rcnn_r18-narrow_fpn_clip-head_vl-plm_ovd-shapes.py \\
      --cfg-options pseudo_labeler.proposal_checkpoint=work_dirs/mask-rcnn_r18-narrow_fpn_class-agnostic_ovd-shapes-base/iter_1100.pth

Sharded (each shard resumable; then merge, with the same config or
--ann-file and --out):
  ... --shard 0/4   ...   --shard 3/4
  ... --merge --shards 4
Parallel shards on one machine, merged: --workers N (default: the config's
pseudo_label_run.workers).
"""
from __future__ import annotations

import argparse
import sys
from typing import Sequence

from mmengine.config import Config, DictAction


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument('config', nargs='?',
                   help='config with a pseudo_labeler block (with --merge '
                   'only its default --ann-file / --out are used)')
    p.add_argument('--ann-file', help='COCO json of the images to label '
                   "(default: the config's training set)")
    p.add_argument('--img-dir', help='folder the json file_name entries are '
                   "relative to (default: the config's training images)")
    p.add_argument('--out', help='output pseudo-label json (default: the '
                   "config's pseudo_ann_file)")
    p.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                   help='override config keys, e.g. '
                   'pseudo_labeler.tau=0.5 pseudo_labeler.max_regions=None')
    p.add_argument('--shard', default=None, help='i/n: label one shard')
    p.add_argument('--workers', type=int, default=None,
                   help='run this many shards in parallel processes and '
                   'merge them (1 torch thread each; not with --shard)')
    p.add_argument('--merge', action='store_true',
                   help='only merge the finished shards of --out')
    p.add_argument('--shards', type=int, default=None,
                   help='number of shards to merge (with --merge)')
    p.add_argument('--max-images', type=int, default=None)
    p.add_argument('--restart', action='store_true',
                   help='start the shard(s) over instead of resuming')
    p.add_argument('--no-progress', action='store_true')
    return p.parse_args(argv)


def print_report(report: dict) -> None:
    print(f"{report['num_pseudo_labels']} pseudo labels on "
          f"{report['num_labeled_images']} images "
          f"({report['pseudo_labels_per_image']:.2f} per image) -> "
          f"{report['output']}")
    if report.get('dropped_by_reason'):
        print('dropped: ' + ', '.join(
            f'{n} {k}' for k, n in report['dropped_by_reason'].items()))
    if report['num_skipped']:
        print(f"skipped {report['num_skipped']} unreadable images "
              f"({report.get('skipped_by_reason')}):")
        for s in report['skipped'][:20]:
            print(f"  image {s['image_id']} ({s['file_name']}): {s['reason']}")
        if report['num_skipped'] > 20:
            print('  ... (all listed in the report json)')


def main(argv: Sequence[str] | None = None) -> int:
    from ovd_ext.pseudo_labels import merge_shards, run_labeler
    from ovd_ext.pseudo_labels.config import (labeler_config, labeler_io,
                                              run_defaults)
    from ovd_ext.pseudo_labels.record import load_json
    args = parse_args(argv)
    cfg, io = None, {'ann_file': None, 'img_dir': None, 'out': None}
    if args.config:
        cfg = Config.fromfile(args.config)
        cfg.merge_from_dict(args.cfg_options)
        io = labeler_io(cfg)
    ann_file = args.ann_file or io['ann_file']
    img_dir = args.img_dir if args.img_dir is not None else io['img_dir']
    out = args.out or io['out']
    for name, value in (('--ann-file', ann_file), ('--out', out)):
        if not value:
            sys.exit(f'{name} is not given and no CONFIG gives a default')
    if args.merge:
        report = merge_shards(out, args.shards or 1,
                              load_json(ann_file, 'annotation file'),
                              args.max_images)
        print_report(report)
        return 0
    if cfg is None:
        sys.exit('need a CONFIG with a pseudo_labeler block')
    labeler = labeler_config(cfg, args.config)
    run = run_defaults(cfg, args.config)
    workers = args.workers or run.get('workers', 1)
    if args.shard is not None:
        if args.workers and args.workers > 1:
            sys.exit('--workers makes its own shards; drop --shard')
        workers = 1
    res = run_labeler(labeler, ann_file, img_dir or '', out, workers=workers,
                      shard=args.shard,
                      max_images=args.max_images or run.get('max_images'),
                      progress=not args.no_progress,
                      resume=not args.restart,
                      threads_per_worker=run.get('threads_per_worker', 1))
    c = res['counts']
    print(f"shard {res['shard']}: {c['labeled']} images labeled, "
          f"{c['skipped']} skipped, {c['done_before']} done before "
          f"({res['shard_file']})")
    if res['report'] is None:
        print('run the other shards, then --merge --shards N')
        return 0
    print_report(res['report'])
    return 0


if __name__ == '__main__':
    sys.exit(main())
