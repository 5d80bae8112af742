"""``make reproduce``: retrain every OVD-Shapes zoo row from its declared
stages and compare with the zoo (resumable; several seeds give mean and
spread).

    python tools/shapes/reproduce.py                 # seed 0, every method
    python tools/shapes/reproduce.py --seeds 0 1 2 --methods vl_plm
"""
import argparse

from ovd_ext.apis.reproduce import run_reproduce


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dir', default='work_dirs/reproduce')
    parser.add_argument('--methods', nargs='+',
                        help='config folders (default: every declared one)')
    parser.add_argument('--seeds', nargs='+', type=int, default=[0],
                        help='training seeds (randomness.seed); default 0, '
                        'the zoo\'s')
    args = parser.parse_args()
    run_reproduce(args.work_dir, args.methods, args.seeds)


if __name__ == '__main__':
    main()
