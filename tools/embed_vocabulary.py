"""Encode a class vocabulary with a CLIP text encoder (prompt ensemble).

Writes ``--out X.npy`` (float32 [C, D], unit rows) and its sidecar ``X.json``
({"classes", "model", "prompts"}), the format every ovd_ext head loads.

Class names come from exactly one source:

  --classes-from-json ann.json   COCO / LVIS categories sorted by id (LVIS
                                 synonyms join the prompts unless --no-synonyms)
  --dataset-class CocoDataset    METAINFO classes of a registered mmdet dataset
  --class-file classes.txt       one class per line, synonyms split by '/'
  --names 'cat,sofa/couch'       classes split by ',', synonyms by '/'
  --config CONFIG                the config's test dataset classes; the CLIP
                                 (--model / --model-config, --checkpoint),
                                 --templates and --out default to the
                                 config's `clip` and `vocabulary`; with
                                 `vocabulary_background = True` the class
                                 'background' comes first (as --background)

--background prepends the class 'background' (row 0): the background text
embedding of heads with bg_embedding='text' (DITO Sec. 3.1).

Example:
  python tools/embed_vocabulary.py --model ovd-tiny-vit \
      --checkpoint checkpoints/ovd-tiny-vit.pt --dataset-class CocoDataset \
      --templates imagenet80 --out data/embeddings/coco_tiny-vit.npy
"""
from __future__ import annotations

import argparse
import sys
from typing import Sequence

from ovd_ext.vlm import (embed_vocabulary, from_dataset_class, from_json,
                         from_names, from_text_file)
from ovd_ext.vlm.class_names import BACKGROUND, from_config, with_background
from ovd_ext.vlm.openclip import build_clip_from_cfg
from ovd_ext.vlm.prompts import TEMPLATE_SETS


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument('--model',
                   help='open_clip architecture, e.g. ovd-tiny-vit, RN50')
    p.add_argument('--model-config', metavar='JSON',
                   help='an open_clip model-config json instead of --model')
    p.add_argument('--checkpoint',
                   help='local weights file of that architecture')
    p.add_argument('--tag', default=None,
                   help='open_clip tag the file was published as (offline '
                   'lookup of quick_gelu / mean / std), e.g. openai')
    p.add_argument('--templates', default=None,
                   choices=sorted(TEMPLATE_SETS))
    p.add_argument('--out', help='output .npy path')
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument('--classes-from-json', metavar='JSON')
    src.add_argument('--dataset-class', metavar='NAME')
    src.add_argument('--class-file', metavar='TXT')
    src.add_argument('--names', metavar="'a,b/b2'")
    src.add_argument('--config', metavar='CONFIG')
    p.add_argument('--background', action='store_true',
                   help="prepend the class 'background' (heads with "
                   "bg_embedding='text', DITO); a --config with "
                   'vocabulary_background = True implies it')
    p.add_argument('--no-synonyms', action='store_true',
                   help='ignore LVIS synonyms in --classes-from-json')
    p.add_argument('--batch-size', type=int, default=256)
    p.add_argument('--device', default='cpu')
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    clip_cfg: dict = {}
    if args.config:
        from mmengine.config import Config
        cfg = Config.fromfile(args.config)
        clip_cfg = dict(cfg.get('clip') or {})
        args.templates = args.templates or clip_cfg.get('templates')
        args.out = args.out or cfg.get('vocabulary')
    args.templates = args.templates or 'imagenet80'
    if args.model or args.model_config:     # the command line names the CLIP
        clip_cfg = {k: v for k, v in clip_cfg.items()
                    if k not in ('name', 'model_config')}
    if not (args.model or args.model_config or clip_cfg.get('name')
            or clip_cfg.get('model_config')):
        raise SystemExit('--model (or --model-config) is required (or a '
                         '--config with it)')
    if not (args.checkpoint or clip_cfg.get('checkpoint')):
        raise SystemExit('--checkpoint is required (or a --config with it)')
    if not args.out:
        raise SystemExit('--out is required (or a --config with it)')
    if not args.out.endswith('.npy'):
        raise SystemExit(f'--out must end with .npy, got {args.out}')
    if args.classes_from_json:
        classes = from_json(args.classes_from_json,
                            use_synonyms=not args.no_synonyms)
    elif args.dataset_class:
        classes = from_dataset_class(args.dataset_class)
    elif args.class_file:
        classes = from_text_file(args.class_file)
    elif args.names:
        classes = from_names(args.names)
    else:
        classes = from_config(cfg)
    if args.background and classes.names[:1] != [BACKGROUND]:
        classes = with_background(classes)
    clip = build_clip_from_cfg(
        clip_cfg, name=args.model, model_config=args.model_config,
        checkpoint=args.checkpoint, tag=args.tag).to(args.device)
    emb = embed_vocabulary(clip, classes, args.out, args.templates,
                           batch_size=args.batch_size, progress=True)
    print(f'wrote {args.out} {tuple(emb.shape)} for {len(classes)} classes '
          f'({clip.name}, templates={args.templates})')
    return 0


if __name__ == '__main__':
    sys.exit(main())
