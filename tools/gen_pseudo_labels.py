"""Generate VL-PLM pseudo labels for the images of a COCO-format json.

A class-agnostic two-stage detector proposes and refines regions, CLIP names
them (VL-PLM, shared/papers/vl-plm.txt; library: ovd_ext.pseudo_labels). The
output is a COCO json with the source dataset's images and categories whose
annotations carry `score` and `pseudo: true` (DESIGN.md §3), plus a
`<out stem>.report.json` (counts, skipped images).

OVD-Shapes (novel classes, the paper's default label space "novel"):
  python tools/gen_pseudo_labels.py \\
      configs/vl_plm/mask-rcnn_r18-narrow_fpn_class-agnostic_ovd-shapes-base.py \\
      work_dirs/mask-rcnn_r18-narrow_fpn_class-agnostic_ovd-shapes-base/iter_1100.pth \\
      --ann-file data/ovd_shapes/annotations/instances_train.json \\
      --img-dir data/ovd_shapes/images \\
      --clip ovd-tiny-vit --clip-checkpoint checkpoints/ovd_shapes/ovd-tiny-vit.pt \\
      --targets star,ring,house,fish,mushroom \\
      --out data/ovd_shapes/pseudo_labels/vl-plm_novel_train.json

Sharded (each shard resumable; then merge):
  ... --shard 0/4   ...   --shard 3/4
  ... --merge --shards 4
SSOD (all classes; a teacher's detections merged before tau and NMS):
  ... --targets all --teacher teacher_dets.bbox.json
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Sequence

from ovd_ext.pseudo_labels import (LABEL_SPACES, REGION_MODES, VLPLMSettings,
                                   generate_pseudo_labels,
                                   generate_pseudo_labels_parallel,
                                   merge_shards)

DEFAULTS = VLPLMSettings()


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument('config', nargs='?',
                   help='class-agnostic proposal generator config')
    p.add_argument('checkpoint', nargs='?',
                   help='its checkpoint (omit only for a random-weight smoke '
                   'test with --random-detector)')
    p.add_argument('--ann-file', required=True,
                   help='COCO json of the images to label')
    p.add_argument('--img-dir', default='',
                   help='folder the json file_name entries are relative to')
    p.add_argument('--out', required=True, help='output pseudo-label json')
    p.add_argument('--clip', default='ovd-tiny-vit',
                   help='open_clip architecture (default: ovd-tiny-vit)')
    p.add_argument('--clip-checkpoint', help='local CLIP weights file')
    p.add_argument('--random-clip', action='store_true',
                   help='random CLIP weights (tests only)')
    p.add_argument('--random-detector', action='store_true',
                   help='random proposal generator weights (tests only)')
    p.add_argument('--clip-precision', default='fp32',
                   choices=['fp32', 'bf16', 'fp16'],
                   help='CLIP weights precision (bf16: several times faster '
                   'crop scoring on CPUs with AMX/AVX512-BF16)')
    p.add_argument('--templates', default='imagenet80')
    p.add_argument('--vocabulary', help='saved class embeddings (.npy) to '
                   'use instead of encoding the class names')
    p.add_argument('--targets', default='all',
                   help="target classes: 'all', 'novel' (LVIS rare) or "
                   'comma-separated names')
    p.add_argument('--label-space', default=DEFAULTS.label_space,
                   choices=LABEL_SPACES)
    p.add_argument('--tau', type=float, default=DEFAULTS.tau)
    p.add_argument('--nms-iou', type=float, default=DEFAULTS.nms_iou)
    p.add_argument('--topk', type=int, default=DEFAULTS.topk)
    p.add_argument('--rpn-nms-iou', type=float, default=DEFAULTS.rpn_nms_iou)
    p.add_argument('--refine-iters', type=int, default=DEFAULTS.refine_iters)
    p.add_argument('--max-regions', type=int, default=None)
    p.add_argument('--min-size', type=float, default=DEFAULTS.min_size)
    p.add_argument('--scales', type=float, nargs='+',
                   default=list(DEFAULTS.scales))
    p.add_argument('--region-mode', default=DEFAULTS.region_mode,
                   choices=REGION_MODES)
    p.add_argument('--fast-short-side', type=int, default=None)
    p.add_argument('--logit-scale', type=float, default=None)
    p.add_argument('--crop-batch-size', type=int,
                   default=DEFAULTS.crop_batch_size)
    p.add_argument('--teacher', help='SSOD teacher detections (COCO results '
                   'json), merged before thresholding and NMS')
    p.add_argument('--teacher-tau', type=float, default=None)
    p.add_argument('--teacher-only', action='store_true',
                   help='pseudo labels from the teacher only (baseline)')
    p.add_argument('--shard', default='0/1', help='i/n (default 0/1)')
    p.add_argument('--workers', type=int, default=1,
                   help='run this many shards in parallel processes and '
                   'merge them (1 torch thread each; not with --shard)')
    p.add_argument('--merge', action='store_true',
                   help='only merge the finished shards of --out')
    p.add_argument('--shards', type=int, default=None,
                   help='number of shards to merge (with --merge)')
    p.add_argument('--max-images', type=int, default=None)
    p.add_argument('--device', default='cpu')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--no-progress', action='store_true')
    return p.parse_args(argv)


def settings_from_args(args: argparse.Namespace) -> VLPLMSettings:
    return VLPLMSettings(
        topk=args.topk, rpn_nms_iou=args.rpn_nms_iou,
        refine_iters=args.refine_iters, max_regions=args.max_regions,
        min_size=args.min_size, scales=tuple(args.scales), tau=args.tau,
        nms_iou=args.nms_iou, label_space=args.label_space,
        logit_scale=args.logit_scale, region_mode=args.region_mode,
        crop_batch_size=args.crop_batch_size,
        fast_short_side=args.fast_short_side, teacher_tau=args.teacher_tau)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.merge:
        with open(args.ann_file) as f:
            source = json.load(f)
        report = merge_shards(args.out, args.shards or 1, source,
                              args.max_images)
    else:
        if not args.teacher_only:
            if not args.config or not (args.checkpoint
                                       or args.random_detector):
                sys.exit('need the proposal generator CONFIG and CHECKPOINT '
                         '(or --teacher-only)')
            if not (args.clip_checkpoint or args.random_clip):
                sys.exit('need --clip-checkpoint (or --random-clip)')
        kwargs = dict(
            det_config=args.config, det_checkpoint=args.checkpoint,
            ann_file=args.ann_file, img_dir=args.img_dir, out=args.out,
            clip_model=args.clip, clip_checkpoint=args.clip_checkpoint,
            targets=args.targets, settings=settings_from_args(args),
            templates=args.templates, vocabulary=args.vocabulary,
            teacher=args.teacher, max_images=args.max_images,
            device=args.device, seed=args.seed,
            teacher_only=args.teacher_only, progress=not args.no_progress,
            clip_precision=args.clip_precision)
        if args.workers > 1:
            if args.shard != '0/1':
                sys.exit('--workers makes its own shards; drop --shard')
            res = generate_pseudo_labels_parallel(workers=args.workers,
                                                  **kwargs)
        else:
            res = generate_pseudo_labels(shard=args.shard, **kwargs)
        c = res['counts']
        print(f"shard {res['shard']}: {c['labeled']} images labeled, "
              f"{c['skipped']} skipped, {c['done_before']} done before "
              f"({res['shard_file']})")
        report = res['report']
        if report is None:
            print('run the other shards, then --merge --shards N')
            return 0
    print(f"{report['num_pseudo_labels']} pseudo labels on "
          f"{report['num_labeled_images']} images "
          f"({report['pseudo_labels_per_image']:.2f} per image) -> "
          f"{report['output']}")
    if report['num_skipped']:
        print(f"skipped {report['num_skipped']} unreadable images:")
        for s in report['skipped'][:20]:
            print(f"  image {s['image_id']} ({s['file_name']}): {s['reason']}")
        if report['num_skipped'] > 20:
            print('  ... (all listed in the report json)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
