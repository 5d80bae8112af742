"""``make demo``: evaluate the OVD-Shapes model zoo in a few minutes.

Generates OVD-Shapes, evaluates the headline checkpoint of every method that
declares OVD-Shapes stages (``configs/*/ovd-shapes.stages.yml``), prints and
writes the results table (other rows from the metafiles, marked so) and draws
one detector's detections with a custom vocabulary beside the ground truth.
``--all`` (``make demo-all``) evaluates every zoo row.
"""
import argparse

from ovd_ext.apis.demo import run_demo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument('--methods', nargs='+',
                        help='config folders to show (default: every one '
                        'with an OVD-Shapes stage declaration)')
    parser.add_argument('--all', action='store_true',
                        help='evaluate every zoo row, not only the headlines')
    parser.add_argument('--no-vocabulary-demo', action='store_true',
                        help='skip the custom-vocabulary pictures')
    args = parser.parse_args()
    run_demo(args.work_dir, args.methods, evaluate_all=args.all,
             vocabulary_demo=not args.no_vocabulary_demo)


if __name__ == '__main__':
    main()
