"""Run the OVD-Shapes demo (``make demo``): data, vocabulary, the base-only
baseline, VL-PLM (proposal generator, pseudo labels, student) and the oracle,
each trained and evaluated, then one results table."""
import argparse

from mmengine.config import DictAction

from ovd_ext.apis.shapes_demo import METHODS, run_demo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument('--methods', nargs='+', default=list(METHODS),
                        choices=list(METHODS),
                        help='rows of the table (default: all; `make '
                        'demo-baseline` runs only the baseline)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='overrides applied to every config')
    args = parser.parse_args()
    run_demo(args.work_dir, args.methods, args.cfg_options)


if __name__ == '__main__':
    main()
