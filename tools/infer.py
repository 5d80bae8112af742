"""Detect a user vocabulary in images with a trained open-vocabulary model.

Example::

    python tools/infer.py demo.jpg CONFIG CHECKPOINT \
        --texts 'cat,remote control' --out-dir outputs/

The texts are embedded with the CLIP named in the config's ``clip`` field
(prompt ensemble), or read from ``--vocabulary file.npy``; predictions and a
visualisation per image are written under ``--out-dir``.
"""
import argparse

from mmdet.apis import DetInferencer

from ovd_ext.apis.vocabulary import embed_texts, load_vocabulary, set_vocabulary
from ovd_ext.models.layers import EmbeddingDimMismatchError


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('inputs', help='image file or folder')
    parser.add_argument('config', help='model config')
    parser.add_argument('checkpoint', help='model weights')
    vocab = parser.add_mutually_exclusive_group(required=True)
    vocab.add_argument('--texts', help="class names: 'cat,sofa/couch' "
                       "(classes by ',', synonyms by '/')")
    vocab.add_argument('--vocabulary', help='a class embedding .npy file')
    parser.add_argument('--out-dir', default='outputs', help='output folder')
    parser.add_argument('--score-thr', type=float, default=0.3)
    parser.add_argument('--device', default='cpu')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    try:
        inferencer = DetInferencer(model=args.config, weights=args.checkpoint,
                                   device=args.device, show_progress=True)
        if args.texts:
            embeddings, names = embed_texts(inferencer.cfg, args.texts)
        else:
            embeddings, names = load_vocabulary(args.vocabulary)
        set_vocabulary(inferencer.model, embeddings, names,
                       source=args.vocabulary or 'of --texts')
    except EmbeddingDimMismatchError as err:
        raise SystemExit(f'error: {err} (checkpoint {args.checkpoint})')
    inferencer.visualizer.dataset_meta = inferencer.model.dataset_meta
    inferencer(args.inputs, out_dir=args.out_dir, pred_score_thr=args.score_thr,
               no_save_pred=False)
    print(f'results written to {args.out_dir}/vis and {args.out_dir}/preds')


if __name__ == '__main__':
    main()
