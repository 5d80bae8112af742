"""Make a zoo entry from a training checkpoint: weights only (fp16 when the
metrics hold within 0.1 AP), at most 8 MB, with a provenance json beside it.

    python tools/model_zoo/publish.py CONFIG work_dirs/.../iter_1100.pth \\
        checkpoints/vl_plm/NAME.pth --commit $(git rev-parse HEAD) \\
        --train-seconds 507

Prints the metrics to copy into the method's metafile.yml (`Results`).
"""
import argparse
import json

from ovd_ext.apis.publish import publish


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('out', help='zoo path, checkpoints/<method>/<name>.pth')
    p.add_argument('--commit', required=True,
                   help='the commit the checkpoint was trained at')
    p.add_argument('--work-dir', default='work_dirs/publish')
    p.add_argument('--train-seconds', type=float)
    p.add_argument('--command', help='how it was trained')
    args = p.parse_args()
    prov = publish(args.config, args.checkpoint, args.out, args.commit,
                   args.work_dir, args.train_seconds, args.command)
    print(json.dumps(prov, indent=1))


if __name__ == '__main__':
    main()
