"""Run the OVD-Shapes demo (``make demo``): data, vocabulary, train, evaluate."""
import argparse

from mmengine.config import DictAction

from ovd_ext.apis.shapes_demo import run_demo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument('--with-oracle', action='store_true',
                        help='also train the oracle (base + novel ground truth)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='overrides applied to every config')
    args = parser.parse_args()
    run_demo(args.work_dir, args.with_oracle, args.cfg_options)


if __name__ == '__main__':
    main()
