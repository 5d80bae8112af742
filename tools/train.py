"""Train a detector (mmdet's tools/train.py interface), with ovd_ext loaded."""
import argparse

from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from ovd_ext.apis.run_config import add_common_args, prepare_train_config


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a detector')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--amp', action='store_true',
                        help='automatic mixed precision')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the learning rate by the batch size')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from this checkpoint, or from the latest one in the '
        'work dir when no path is given')
    add_common_args(parser)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    try:
        cfg = prepare_train_config(args)
    except FileNotFoundError as err:
        raise SystemExit(f'error: {err}')
    runner = (Runner.from_cfg(cfg) if 'runner_type' not in cfg
              else RUNNERS.build(cfg))
    runner.train()


if __name__ == '__main__':
    main()
