"""Config preparation shared by ``tools/train.py`` and ``tools/test.py``.

The command-line semantics are mmdet's (``--work-dir``, ``--cfg-options``,
``--resume``, ``--amp``, ``--show-dir``, ``--out``, ``--launcher``); the tools
only parse arguments and call these functions.
"""
from __future__ import annotations

import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction

from ..utils.data_check import check_data_paths


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """Arguments every runner tool takes, as mmdet's tools spell them."""
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, key=value pairs (mmdet syntax)')
    parser.add_argument('--launcher', default='none',
                        choices=['none', 'pytorch', 'slurm', 'mpi'])
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def load_config(args: argparse.Namespace) -> Config:
    """Read the config, merge ``--cfg-options``, set launcher and work dir."""
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    return cfg


def prepare_train_config(args: argparse.Namespace) -> Config:
    """Config for training: amp, auto-scale-lr, resume, data check."""
    cfg = load_config(args)
    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.loss_scale = 'dynamic'
    if args.auto_scale_lr:
        if 'base_batch_size' not in cfg.get('auto_scale_lr', {}):
            raise RuntimeError('--auto-scale-lr needs auto_scale_lr.'
                               'base_batch_size in the config')
        cfg.auto_scale_lr.enable = True
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    loaders = ['train_dataloader']
    if cfg.get('val_cfg') and cfg.get('val_dataloader'):
        loaders.append('val_dataloader')
    check_data_paths(cfg, loaders)
    return cfg


def prepare_test_config(args: argparse.Namespace) -> Config:
    """Config for testing: checkpoint, visualisation, data check."""
    cfg = load_config(args)
    if args.checkpoint is None:
        # a model whose config names every file its weights come from
        # (e.g. a RegionCLIP zero-shot detector: CLIP + offline RPN)
        cfg.load_from = None
    elif not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint {args.checkpoint} not found')
    else:
        cfg.load_from = args.checkpoint
    if args.show or args.show_dir:
        hooks = cfg.default_hooks
        if 'visualization' not in hooks:
            raise RuntimeError('--show/--show-dir need a `visualization` hook '
                               'in default_hooks (mmdet base runtime has one)')
        hooks.visualization.draw = True
        hooks.visualization.show = args.show
        hooks.visualization.wait_time = args.wait_time
        if args.show_dir:
            hooks.visualization.test_out_dir = args.show_dir
    check_data_paths(cfg, ['test_dataloader'])
    return cfg
