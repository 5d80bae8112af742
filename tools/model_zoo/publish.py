"""Make a zoo entry from a training checkpoint: weights only (fp16 when the
metrics hold within 0.1 AP), at most 8 MB, with a provenance json beside it.

    python tools/model_zoo/publish.py CONFIG work_dirs/.../iter_1100.pth \\
        checkpoints/vl_plm/NAME.pth --commit $(git rev-parse HEAD) \\
        --train-seconds 507

With --metafile, sets the entry's `Weights` and metrics in the metafile.
With --no-eval, a file other configs load at construction (a pretrained
image tower, an RPN): fp16 weights and provenance, no evaluation.
"""
import argparse
import json
import os.path as osp

from ovd_ext.apis.publish import publish, publish_weights, update_metafile


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
    p.add_argument('--fp32-metrics', help='metrics json of the checkpoint '
                   '(tools/test.py / pipeline output) instead of evaluating it')
    p.add_argument('--no-eval', action='store_true',
                   help='not a table row: fp16 weights + provenance only')
    p.add_argument('--fp32', action='store_true',
                   help='with --no-eval: keep fp32 (rows rebuilt from this '
                   'file move in fp16)')
    p.add_argument('--force-fp16', action='store_true',
                   help='keep fp16 weights even when they move a table '
                   'number by more than the tolerance (the metafile then '
                   'records the fp16 numbers)')
    p.add_argument('--note', help='a remark for the provenance')
    p.add_argument('--metafile', help='also set Weights and metrics of '
                   '--name in this metafile.yml')
    p.add_argument('--name', help='metafile model name (default: the '
                   'config file stem)')
    args = p.parse_args()
    fp32 = None
    if args.fp32_metrics:
        with open(args.fp32_metrics) as f:
            fp32 = json.load(f)
        fp32 = fp32.get('metrics', fp32)
    if args.no_eval:
        prov = publish_weights(args.config, args.checkpoint, args.out,
                               args.commit, args.train_seconds, args.command,
                               args.note, fp16=not args.fp32)
    else:
        prov = publish(args.config, args.checkpoint, args.out, args.commit,
                       args.work_dir, args.train_seconds, args.command, fp32,
                       args.note, force_fp16=args.force_fp16)
    print(json.dumps(prov, indent=1))
    if args.metafile:
        name = args.name or osp.splitext(osp.basename(args.config))[0]
        meta = {'Iterations': prov['iterations']}
        if prov['train_seconds']:
            meta['Training Resources'] = (
                f'{prov["machine"]["cores"]} CPU cores '
                f'({prov["train_seconds"] / 60:.1f} min)')
        update_metafile(args.metafile, name, args.out, prov['metrics'], meta)


if __name__ == '__main__':
    main()
