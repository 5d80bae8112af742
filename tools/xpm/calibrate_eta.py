"""Calibrate XPM's eta (Eq. 7): the smallest average pseudo-mask noise level
over a sample of captioned images.

Paper, Sec. 4.1 and footnote 2: "we set eta = 0.01, which is the smallest
average noise level estimated offline on 10k captioned images"; "we
determine eta by training our method on a subset of images and set the
smallest average noise level during training to be eta". This tool takes an
XPM student trained with the noise head (a training checkpoint: exported zoo
weights have no noise head) and its captioned pseudo labels, computes for
each image the average of its pseudo labels' mean noise variance, and
prints the smallest (and a few quantiles); set it with
``--cfg-options model.roi_head.eta=<value>``.

    python tools/xpm/calibrate_eta.py configs/xpm/mask-rcnn_r18-narrow_fpn_xpm_ovd-shapes.py \\
        work_dirs/.../iter_850.pth --num-images 10000 --out eta.json
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Sequence

import torch
from mmengine.config import Config, DictAction


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument('config', help='XPM student config (its second training '
                   'dataset is the captioned pseudo-label set)')
    p.add_argument('checkpoint', help='a training checkpoint with the noise '
                   'head')
    p.add_argument('--num-images', type=int, default=10000,
                   help='captioned images sampled (paper: 10k)')
    p.add_argument('--out', help='write the result json here (atomic)')
    p.add_argument('--cfg-options', nargs='+', action=DictAction, default={})
    return p.parse_args(argv)


def caption_dataset_cfg(cfg: Config) -> dict:
    """The captioned pseudo-label dataset of the config's training data."""
    ds = cfg.train_dataloader.dataset
    for d in ds.get('datasets', [ds]):
        if d.get('type') == 'CaptionPseudoLabelDataset':
            return d
    sys.exit('the config trains on no CaptionPseudoLabelDataset')


def main(argv: Sequence[str] | None = None) -> int:
    from mmdet.registry import DATASETS, MODELS
    from mmdet.utils import register_all_modules
    from mmengine.dataset import pseudo_collate
    from mmengine.runner import load_checkpoint

    from ovd_ext.utils.io import write_json_atomic
    args = parse_args(argv)
    register_all_modules(init_default_scope=True)
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    ds_cfg = caption_dataset_cfg(cfg).copy()
    ds_cfg.pipeline = [t for t in ds_cfg.pipeline
                       if t['type'] != 'RandomFlip']
    dataset = DATASETS.build(ds_cfg)
    model = MODELS.build(cfg.model)
    ckpt = load_checkpoint(model, args.checkpoint, map_location='cpu',
                           logger='silent')
    if not any('noise_head' in k for k in ckpt.get('state_dict', ckpt)):
        sys.exit(f'{args.checkpoint} has no noise head weights (exported '
                 'weights drop it; give a training checkpoint)')
    model.eval()
    g = torch.Generator().manual_seed(0)
    n = min(args.num_images, len(dataset))
    order = torch.randperm(len(dataset), generator=g)[:n].tolist()
    levels = []
    from tqdm import tqdm
    with torch.no_grad():
        for i in tqdm(order, desc='noise levels', unit='img'):
            batch = model.data_preprocessor(pseudo_collate([dataset[i]]),
                                            False)
            x = model.extract_feat(batch['inputs'])
            per_obj = model.roi_head.noise_levels(x, batch['data_samples'])[0]
            if per_obj.numel():
                levels.append(float(per_obj.mean()))
    if not levels:
        sys.exit('no captioned image with pseudo labels')
    t = torch.tensor(levels)
    q = {f'q{int(p * 100)}': float(t.quantile(p)) for p in (0.01, 0.1, 0.5)}
    res = {'eta': float(t.min()), 'num_images': len(levels),
           'mean': float(t.mean()), **q, 'checkpoint': args.checkpoint,
           'config': args.config}
    print(json.dumps(res, indent=1))
    if args.out:
        write_json_atomic(args.out, res)
    return 0


if __name__ == '__main__':
    sys.exit(main())
