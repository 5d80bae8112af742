"""Convert a CC3M download (img2dataset, ``--output_format files``) to the
COCO-Captions json of RegionCLIP pretraining
(configs/regionclip/regionclip_rn50_pretrain_cc3m.py reads
data/cc3m/annotations/captions_train.json + data/cc3m/images/).

Writes {"images": [{"id", "file_name", "width", "height"}], "annotations":
[{"id", "image_id", "caption"}]}, file_name relative to ROOT (with
--image-prefix in front), ids 1, 2, ... in sorted key order. Items whose
download failed, without caption or with an unreadable image are skipped and
counted; the counts are printed. Nothing converted is an error.

1. Download (Train_GCC-training.tsv from the Conceptual Captions site has no
   header line; its columns are caption, url). --resize_mode no keeps the
   original images (img2dataset's default makes 256x256 crops with borders;
   pretraining reads 640-800 short sides):
     sed -i '1s/^/caption\\turl\\n/' Train_GCC-training.tsv
     img2dataset --url_list Train_GCC-training.tsv --input_format tsv \\
         --url_col url --caption_col caption --output_format files \\
         --resize_mode no --output_folder data/cc3m/images \\
         --processes_count 16 --thread_count 64
2. Convert:
     python tools/dataset_converters/cc3m_to_coco_captions.py data/cc3m/images \\
         --out data/cc3m/annotations/captions_train.json
3. Dump the RPN proposals over these images (8 GPUs):
     bash tools/dist_test.sh \\
         configs/regionclip/rpn_r50_fpn_1x_ov-lvis-base_dump-proposals_cc3m.py \\
         checkpoints/regionclip/rpn_r50_fpn_1x_ov-lvis-base.pth 8
4. Build the concept pool (from COCO Captions, as the paper):
     python tools/build_concept_pool.py \\
         --captions data/coco/annotations/captions_train2017.json \\
         --candidates data/lvis_v1/annotations/lvis_v1_train.json \\
         --min-count 100 --model RN50-quickgelu \\
         --checkpoint checkpoints/clip/RN50-openai.pt --templates imagenet80 \\
         --out work_dirs/regionclip/concepts/coco-cap_lvis-v1_min100_clip-rn50.npy
   then train with configs/regionclip/regionclip_rn50_pretrain_cc3m.py.
"""
from __future__ import annotations

import argparse
import sys
from typing import Sequence

from ovd_ext.datasets.converters import img2dataset_to_coco_captions


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument('root', help='img2dataset output folder (shards 00000/, '
                   '00001/, ... of <key>.jpg, <key>.txt, <key>.json)')
    p.add_argument('--out', default='data/cc3m/annotations/captions_train.json',
                   help='json to write (default: %(default)s)')
    p.add_argument('--image-prefix', default='',
                   help='put in front of every file_name (default: none, '
                   'file_name relative to ROOT)')
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        counts = img2dataset_to_coco_captions(args.root, args.out,
                                              args.image_prefix)
    except (ValueError, FileNotFoundError) as e:
        raise SystemExit(f'error: {e}') from None
    skipped = counts['skipped']
    print(f'images: {counts["images"]}')
    print(f'skipped: {sum(skipped.values())}')
    for reason, n in skipped.items():
        print(f'  {reason}: {n}')
    print(f'wrote {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
