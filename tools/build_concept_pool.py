"""Build RegionCLIP's concept pool from captions and encode it with CLIP.

Counts in how many captions each candidate concept occurs (lemmatised
matching, once per caption; see ovd_ext/datasets/concept_pool.py), keeps
those named in >= --min-count captions (RegionCLIP Sec. 4 (datasets): 100),
and writes

  --out X.npy        concept embeddings, float32 [C, D], unit rows, and its
  X.json             sidecar {"classes", "model", "prompts"} (the vocabulary
                     format of tools/embed_vocabulary.py)
  X.counts.json      {"captions", "min_count", "counts": {concept: count}}

Each concept is encoded with the prompt ensemble of --templates over its name
and synonyms (RegionCLIP Sec. 3.1: "kite" -> "A photo of a kite").

Candidates (--candidates): a COCO / LVIS json (its "categories"; LVIS
synonyms are matched and prompted unless --no-synonyms) or a text file (one
concept per line, synonyms split by '/').

Example:
  python tools/build_concept_pool.py \\
      --captions data/ovd_shapes/annotations/captions_train.json \\
      --candidates data/ovd_shapes/annotations/lvis_v1_train.json \\
      --model ovd-tiny-rn --checkpoint checkpoints/ovd_shapes/ovd-tiny-rn.pt \\
      --templates imagenet80 --out data/embeddings/ovd-shapes_concepts.npy
"""
from __future__ import annotations

import argparse
import sys
import time
from typing import Sequence

from ovd_ext.datasets.concept_pool import (count_concepts, counts_path,
                                           load_candidates, load_captions,
                                           pool_from_counts, pool_vocabulary,
                                           save_pool_counts)
from ovd_ext.vlm import embed_vocabulary
from ovd_ext.vlm.openclip import build_clip_from_cfg
from ovd_ext.vlm.prompts import TEMPLATE_SETS


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument('--captions', required=True, metavar='JSON',
                   help='COCO-Captions json')
    p.add_argument('--candidates', required=True, metavar='JSON|TXT',
                   help='json with "categories", or a class text file')
    p.add_argument('--no-synonyms', action='store_true',
                   help='ignore LVIS synonyms of a --candidates json')
    p.add_argument('--min-count', type=int, default=100,
                   help='keep concepts named in at least this many captions')
    p.add_argument('--model', help='open_clip architecture, e.g. ovd-tiny-rn')
    p.add_argument('--model-config', metavar='JSON',
                   help='an open_clip model-config json instead of --model')
    p.add_argument('--checkpoint', required=True,
                   help='local weights file of that architecture')
    p.add_argument('--tag', default=None,
                   help='open_clip tag the file was published as (offline '
                   'lookup of quick_gelu / mean / std), e.g. openai')
    p.add_argument('--templates', default='imagenet80',
                   choices=sorted(TEMPLATE_SETS))
    p.add_argument('--out', required=True, help='output .npy path')
    p.add_argument('--batch-size', type=int, default=256)
    p.add_argument('--device', default='cpu')
    args = p.parse_args(argv)
    if not (args.model or args.model_config):
        p.error('--model (or --model-config) is required')
    if not args.out.endswith('.npy'):
        p.error(f'--out must end with .npy, got {args.out}')
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    start = time.perf_counter()
    captions = load_captions(args.captions)
    candidates = load_candidates(args.candidates,
                                 use_synonyms=not args.no_synonyms)
    counts = count_concepts(captions, candidates)
    pool = pool_from_counts(counts, args.min_count, args.captions)
    n_caps = sum(len(c) for c in captions.values())
    print(f'{n_caps} captions of {len(captions)} images, {len(candidates)} '
          f'candidates, {len(counts)} found, {len(pool)} kept with >= '
          f'{args.min_count} captions')
    print('top: ' + ', '.join(f'{n} ({c})' for n, c in pool[:10]))
    clip = build_clip_from_cfg(
        {}, name=args.model, model_config=args.model_config,
        checkpoint=args.checkpoint, tag=args.tag).to(args.device)
    emb = embed_vocabulary(clip, pool_vocabulary(pool, candidates), args.out,
                           args.templates, batch_size=args.batch_size,
                           progress=True)
    save_pool_counts(counts_path(args.out), args.captions, args.min_count,
                     pool)
    print(f'wrote {args.out} {tuple(emb.shape)} and '
          f'{counts_path(args.out)} ({clip.name}, templates='
          f'{args.templates}) in {time.perf_counter() - start:.1f}s')
    return 0


if __name__ == '__main__':
    sys.exit(main())
