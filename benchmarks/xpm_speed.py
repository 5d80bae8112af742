"""XPM speed in one run: pseudo-label throughput of the teacher labeler and
the student's train-step overhead of the noise head.

1. Labeler: images/s of ``XPMLabeler`` (config ``TEACHER``, RANDOM weights
   unless ``--teacher-checkpoint``; captions, nouns, vocabulary as
   ``STUDENT``'s ``pseudo_labeler``), one process, ``--threads`` threads:
   ``load()``, then ``labeler(image_info, bgr_image)`` on ``--images``
   images after ``--warmup``; split into the teacher (``teacher_outputs``:
   pipeline, backbone, RPN, alignment, mask head, pasting) and the rest
   (binarising, RLE, rows). Data: a small OVD-Shapes set in a temp dir
   (``make_shapes``; random unit-row vocabulary of the 20 classes at the
   tiny CLIP's dim) or ``--data-root`` with its real vocabulary.
2. Student step: (a) ``STUDENT`` (``NoiseEstimatingMaskHead``, noise=True)
   vs (b) ``BCE`` (``FCNMaskHead``, noise=False), a's weights loaded into b
   (strict=False), vocabularies those of 1. A step is ``model.train_step``
   (preprocessor, forward, backward, AdamW with the config's lr / clipping;
   backbone, neck, RPN frozen as configured) on a caption batch
   (``caption_pseudo``, word labels) or a ground-truth batch (base labels):
   4 random 192 px images, 3 boxes with ellipse masks each; new batches
   every round, a/b order alternating. Reported: medians of the per-round
   ratios a/b (wall, process CPU) and of mixed 1:1 = (a_cap + a_gt) /
   (b_cap + b_gt).

Goal (issue): the noise head costs at most 1.15x the plain Mask R-CNN step;
PASS/FAIL for the caption and mixed ratios (the GT path is the same code in
both, ~1.0x). Timings are printed, never asserted.

  python benchmarks/xpm_speed.py --quick        # 10 s idle, < 1 min busy CPU
  python benchmarks/xpm_speed.py --threads 1    # steadier on a shared CPU
  python benchmarks/xpm_speed.py --data-root data/ovd_shapes \\
      --teacher-checkpoint work_dirs/.../iter_1100.pth
"""
from __future__ import annotations

import argparse
import copy
import json
import os.path as osp
import statistics
import sys
import tempfile
import time
import warnings

import numpy as np
import torch

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TEACHER = 'configs/xpm/mask-rcnn_r18-narrow_fpn_xpm-teacher_ovd-shapes.py'
STUDENT = 'configs/xpm/mask-rcnn_r18-narrow_fpn_xpm_ovd-shapes.py'
BCE = 'configs/xpm/mask-rcnn_r18-narrow_fpn_xpm-bce_ovd-shapes.py'
REAL_VOCAB = 'embeddings/ovd-shapes-20_tiny-rn.npy'
GOAL = 1.15
warnings.filterwarnings('ignore', message='pkg_resources is deprecated')


def _sync(device: str) -> None:
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def prepare_data(tmp: str, args) -> tuple[str, str]:
    """(data root, vocabulary .npy): ``--data-root`` and its real
    vocabulary, or a generated OVD-Shapes set and a random vocabulary."""
    if args.data_root:
        root = osp.abspath(args.data_root)
        return root, osp.join(root, REAL_VOCAB)
    import open_clip

    import ovd_ext  # noqa: F401  (registers ovd-tiny-rn with open_clip)
    from ovd_ext.shapes import CLASSES
    from ovd_ext.testing import make_shapes
    from ovd_ext.vlm.vocabulary import save_class_embeddings
    root = make_shapes(osp.join(tmp, 'ovd_shapes'),
                       num_train=args.images + args.warmup, num_val=1,
                       seed=args.seed)
    dim = open_clip.get_model_config('ovd-tiny-rn')['embed_dim']
    vocab, rng = osp.join(tmp, 'vocab.npy'), np.random.default_rng(args.seed)
    save_class_embeddings(vocab, rng.normal(size=(len(CLASSES), dim)),
                          CLASSES, model='random', prompts='none')
    return root, vocab


def measure_labeler(root: str, vocab: str, tmp: str, args) -> None:
    """Prints images/s of ``XPMLabeler`` and the teacher's share."""
    from ovd_ext.pseudo_labels.labeler import SkipImage
    from ovd_ext.pseudo_labels.xpm import XPMLabeler
    from ovd_ext.utils.images import read_image
    teacher_cfg = osp.join(tmp, 'xpm_teacher.py')   # vocabulary -> ``vocab``
    with open(teacher_cfg, 'w') as f:
        f.write(f'_base_ = {osp.join(ROOT, TEACHER)!r}\nmodel = dict('
                f'roi_head=dict(bbox_head=dict(vocabulary={vocab!r})))\n')
    ann = osp.join(root, 'annotations')
    ann_file = osp.join(ann, 'instances_train.json')
    labeler = XPMLabeler(
        ann_file, teacher_config=teacher_cfg,
        teacher_checkpoint=args.teacher_checkpoint,
        captions=osp.join(ann, 'captions_train.json'),
        nouns=osp.join(ann, 'lvis_v1_train.json'), vocabulary=vocab,
        wordnet='auto', device=args.device, seed=args.seed,
        random_weights=args.teacher_checkpoint is None)
    labeler.load()
    teacher_s, outputs = [0.0], labeler.teacher_outputs

    def timed_teacher(*a, **kw):   # the teacher's share of each call
        t, out = time.perf_counter(), outputs(*a, **kw)   # ends in .cpu()
        teacher_s[0] += time.perf_counter() - t
        return out

    labeler.teacher_outputs = timed_teacher
    with open(ann_file) as f:
        infos = [im for im in json.load(f)['images']
                 if int(im['id']) in labeler.captions]
    infos = infos[:args.warmup + args.images]
    images = [read_image(osp.join(root, 'images', im['file_name']),
                         im.get('width'), im.get('height')) for im in infos]

    def label(i: int) -> list | None:
        try:
            return labeler(infos[i], images[i])[0]
        except SkipImage:
            return None

    [label(i) for i in range(args.warmup)]
    teacher_s[0], t0 = 0.0, time.perf_counter()
    rows = [label(i) for i in range(args.warmup, len(infos))]
    n, sec, tea = len(rows), time.perf_counter() - t0, teacher_s[0]
    print(f'\n[labeler] XPMLabeler, teacher weights '
          f'{args.teacher_checkpoint or "random"}: {n} images '
          f'({rows.count(None)} skipped), {sum(len(r or ()) for r in rows)} '
          f'pseudo labels\n  {n / sec:.2f} images/s ({sec / n * 1e3:.0f} '
          f'ms/image: teacher {tea / n * 1e3:.0f} ms ({tea / sec:.0%}), '
          f'masks/RLE/rows {(sec - tea) / n * 1e3:.1f} ms)', flush=True)


def build_student(path: str, vocab: str, args, state: dict | None = None):
    """Model (a's weights when ``state``) and AdamW OptimWrapper."""
    from mmdet.registry import MODELS
    from mmengine.config import Config
    from mmengine.optim import OptimWrapper
    cfg = Config.fromfile(osp.join(ROOT, path))
    cfg.model.roi_head.bbox_head.vocabulary = vocab
    cfg.model.roi_head.caption_vocabulary = vocab
    torch.manual_seed(args.seed)
    model = MODELS.build(copy.deepcopy(cfg.model))
    model.init_weights()
    if state is not None:
        model.load_state_dict(state, strict=False)
    model = model.to(args.device).train()
    opt = cfg.optim_wrapper.optimizer
    params = [p for p in model.parameters() if p.requires_grad]
    optim = torch.optim.AdamW(params, lr=opt.lr, weight_decay=opt.weight_decay)
    return model, OptimWrapper(optim, clip_grad=cfg.optim_wrapper.get(
        'clip_grad'))


def make_batch(labels: list[int], caption: bool, args, seed: int) -> dict:
    """``--batch`` uint8 images and samples with ``--objects`` boxes,
    labels drawn from ``labels`` and ellipse BitmapMasks."""
    from mmdet.structures import DetDataSample
    from mmdet.structures.bbox import HorizontalBoxes
    from mmdet.structures.mask import BitmapMasks
    from mmengine.structures import InstanceData
    rng, s = np.random.default_rng(seed), args.size
    yy, xx = np.mgrid[:s, :s]
    inputs, samples = [], []
    for _ in range(args.batch):
        inputs.append(torch.from_numpy(
            rng.integers(0, 256, (3, s, s), dtype=np.uint8)))
        w, h = rng.uniform(16, s / 2, (2, args.objects))
        x1, y1 = rng.uniform(0, s - w), rng.uniform(0, s - h)
        masks = np.stack([(((xx - x - bw / 2) / (bw / 2)) ** 2
                           + ((yy - y - bh / 2) / (bh / 2)) ** 2 <= 1)
                          for x, y, bw, bh in zip(x1, y1, w, h)]).astype(
                              np.uint8)
        sample = DetDataSample(metainfo=dict(
            img_shape=(s, s), ori_shape=(s, s), scale_factor=(1., 1.),
            flip=False, flip_direction=None, **(
                dict(caption_pseudo=True) if caption else {})))
        sample.gt_instances = InstanceData(
            bboxes=HorizontalBoxes(torch.tensor(
                np.stack([x1, y1, x1 + w, y1 + h], 1), dtype=torch.float32)),
            labels=torch.from_numpy(rng.choice(labels, args.objects)),
            masks=BitmapMasks(masks, s, s))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def measure_steps(vocab: str, args) -> None:
    """Prints paired step times of (a) noise head vs (b) plain BCE: medians
    (ms) and median per-round ratios a/b, wall and CPU."""
    from ovd_ext.shapes import BASE_CLASSES
    a = build_student(STUDENT, vocab, args)
    models = dict(a=a, b=build_student(BCE, vocab, args, a[0].state_dict()))
    words = list(range(len(a[0].roi_head.caption_words)))
    base = [i for i, n in enumerate(a[0].roi_head.bbox_head.class_names)
            if n in BASE_CLASSES]
    t = {(c, m, k): [] for c in ('wall', 'cpu') for m in 'ab'
         for k in ('cap', 'gt')}
    for r in range(args.step_warmup + args.reps):
        batches = dict(cap=make_batch(words, True, args, args.seed + 2 * r),
                       gt=make_batch(base, False, args, args.seed + 2 * r + 1))
        for kind, data in batches.items():
            for name in ('ab' if r % 2 == 0 else 'ba'):
                model, optim = models[name]
                d = copy.deepcopy(data)   # the previous step ended synced
                w0, c0 = time.perf_counter(), time.process_time()
                log = model.train_step(d, optim)
                _sync(args.device)
                w1, c1 = time.perf_counter(), time.process_time()
                if not torch.isfinite(log['loss']):
                    raise FloatingPointError(f'{name}/{kind}: {log}')
                if r >= args.step_warmup:
                    t['wall', name, kind].append(w1 - w0)
                    t['cpu', name, kind].append(c1 - c0)
    print(f'\n[student step] {args.batch}x{args.size}x{args.size}, '
          f'{args.objects} objects/image, {args.reps} rounds; (a) noise head,'
          ' (b) plain BCE\n| batch | (a) ms | (b) ms | a/b wall | a/b CPU | '
          f'goal <= {GOAL}x |\n|---|---:|---:|---:|---:|---|')
    med = statistics.median
    for k, ks in (('caption', ['cap']), ('ground truth', ['gt']),
                  ('mixed 1:1', ['cap', 'gt'])):
        (wa, wb), (ca, cb) = ([np.sum([t[c, m, x] for x in ks], 0)
                               for m in 'ab'] for c in ('wall', 'cpu'))
        ratio = med(wa / wb)
        verdict = '-' if k == 'ground truth' else (
            'PASS' if ratio <= GOAL else 'FAIL')
        print(f'| {k} | {med(wa) * 1e3:.0f} | {med(wb) * 1e3:.0f} | '
              f'{ratio:.3f}x | {med(ca / cb):.3f}x | {verdict} |')
    print('ms: median wall step (mixed: caption + GT); a/b: median paired '
          'ratio over rounds; PASS/FAIL on wall.')


def parse_args():
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument('--quick', action='store_true',
                   help='4 images (+1 warm-up), 8 step rounds (+2 warm-up)')
    p.add_argument('--images', type=int, default=20, help='timed, labeler')
    p.add_argument('--warmup', type=int, default=2, help='untimed, labeler')
    p.add_argument('--reps', type=int, default=30, help='timed step rounds')
    p.add_argument('--step-warmup', type=int, default=3,
                   help='untimed step rounds')
    p.add_argument('--batch', type=int, default=4)
    p.add_argument('--size', type=int, default=192)
    p.add_argument('--objects', type=int, default=3, help='boxes per image')
    p.add_argument('--data-root', default=None,
                   help='real OVD-Shapes root (default: generate a small one)')
    p.add_argument('--teacher-checkpoint', default=None,
                   help='teacher weights (default: random weights)')
    p.add_argument('--skip', choices=['labeler', 'steps'], default=None)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--device', default='cpu')
    p.add_argument('--threads', type=int, default=None,
                   help='torch threads (1: steadier on a shared machine)')
    args = p.parse_args()
    if args.quick:
        args.images, args.warmup, args.reps, args.step_warmup = 4, 1, 8, 2
    return args


def main() -> int:
    start, args = time.perf_counter(), parse_args()
    from mmdet.utils import register_all_modules
    from mmengine.logging import MMLogger

    import ovd_ext  # noqa: F401  (registers the project's modules)
    MMLogger.get_instance('xpm_speed', log_level='WARNING')
    register_all_modules(init_default_scope=True)
    if args.threads:
        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        root, vocab = prepare_data(tmp, args)
        print(f'{args.device}, {torch.get_num_threads()} threads, seed '
              f'{args.seed}, data {args.data_root or "generated"}', flush=True)
        if args.skip != 'labeler':
            measure_labeler(root, vocab, tmp, args)
        if args.skip != 'steps':
            measure_steps(vocab, args)
    print(f'total {time.perf_counter() - start:.0f} s')
    return 0


if __name__ == '__main__':
    sys.exit(main())
