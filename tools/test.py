"""Test a detector (mmdet's tools/test.py interface), with ovd_ext loaded.

Swap the vocabulary without retraining by pointing the head at another
embedding file, e.g.
``--cfg-options model.roi_head.bbox_head.vocabulary=other.npy``
(with a test dataset whose classes match it, made with the same CLIP: a file
of another embedding dimension than the checkpoint's classifier is an error
that names both files).
"""
import argparse

from mmdet.evaluation import DumpDetResults
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from ovd_ext.apis.run_config import add_common_args, prepare_test_config
from ovd_ext.models.layers import EmbeddingDimMismatchError


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test (and eval) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', nargs='?', default=None,
                        help='checkpoint file; leave out for a model built '
                        'from the files its config names (zero-shot '
                        'detectors, e.g. configs/regionclip/zero-shot_*.py)')
    parser.add_argument('--out', help='dump predictions to this .pkl file')
    parser.add_argument('--show', action='store_true',
                        help='show prediction results')
    parser.add_argument('--show-dir', help='save painted images here '
                        '(relative to the work dir)')
    parser.add_argument('--wait-time', type=float, default=2,
                        help='seconds between shown images')
    add_common_args(parser)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    try:
        cfg = prepare_test_config(args)
    except FileNotFoundError as err:
        raise SystemExit(f'error: {err}')
    runner = (Runner.from_cfg(cfg) if 'runner_type' not in cfg
              else RUNNERS.build(cfg))
    if args.out is not None:
        if not args.out.endswith(('.pkl', '.pickle')):
            raise SystemExit('error: --out must end with .pkl or .pickle')
        runner.test_evaluator.metrics.append(
            DumpDetResults(out_file_path=args.out))
    try:
        runner.test()
    except EmbeddingDimMismatchError as err:   # vocabulary vs checkpoint
        raise SystemExit(f'error: {err}')


if __name__ == '__main__':
    main()
