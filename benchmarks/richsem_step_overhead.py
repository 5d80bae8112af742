"""Training-step overhead of RichSem's CLIP teacher + semantic branch over the
same Faster R-CNN without them, measured in one run.

Goal (issue): RichSem / plain <= 1.3x per training step. Two detectors are
built per setting from the committed configs (``copy.deepcopy(cfg.model)``,
``MODELS.build``, ``init_weights()``; RANDOM weights everywhere: weights do
not change speed, nothing is downloaded, no data files are read):

  plain     ``faster-rcnn_r18-narrow_fpn_baseline_ovd-shapes-lt.py``: the
            detector alone (``RichSemFasterRCNN`` without teacher,
            ``RichSemRoIHead`` without semantic branch);
  RichSem   ``faster-rcnn_r18-narrow_fpn_soft-det_ovd-shapes-lt.py``: + the
            frozen CLIP teacher (scores every ground-truth box, Eq. 1-2) and
            the semantic branch (``L_soft`` on the positive RoIs, Eq. 4).

Settings (the vocabulary is a random unit-row ``.npy`` of the teacher CLIP's
embed dim, written to a temp dir and shared by the box head, the teacher and
the branch; the federated loss gets random long-tailed class counts):

  tiny      OVD-Shapes: the narrow R18-FPN student as committed, teacher
            ``ovd-tiny-rn`` (layer as committed: 'layer3'), ``--tiny-classes``
            (20) classes, ``--tiny-batch`` (4) images of ``--tiny-size``
            (192) px, ``--tiny-gts`` (4) boxes per image.
  r50       LVIS-sized: an R50-FPN student (``R50_CONFIG`` when it exists,
            else the same RichSem config with the backbone, neck, RPN, RoI
            sizes and train/test cfg of
            ``configs/_base_/models/faster-rcnn_r50_fpn_clip-head.py`` and a
            branch of 2 x 1024 FCs on the 256 x 7 x 7 RoI features), teacher
            ``RN50-quickgelu`` pooling 'layer4' (official code),
            ``--r50-classes`` (1203) classes, ``--r50-batch`` (2) images of
            ``--r50-size`` (512) px, ``--r50-gts`` (12, about LVIS's mean
            instances per image) boxes per image.

Batches: random uint8 images and random gt boxes / labels packed as mmdet
``DetDataSample`` s (``HorizontalBoxes``, as ``PackDetInputs``); one new batch
per round, the same for both detectors. A step is ``model.train_step`` (the
Runner's: data preprocessor, forward, losses, backward, SGD update with the
config's gradient clipping), the teacher built beforehand. Steps are
interleaved (plain, RichSem, RichSem, plain, ...: the order alternates every
round) so that load from other jobs hits both alike; ``--warmup`` untimed
rounds first, then over ``--steps`` rounds the median step times and the
median of the per-round ratios RichSem / plain (paired: same batch, adjacent
in time; wall and process CPU time). The teacher's share is its forward
inside the RichSem steps (forward hooks). The semantic branch (``H_soft`` +
``Contrast`` + KL on the positive RoIs) is timed alone after each RichSem
step, forward + backward on that step's inputs (backward hooks inside the
step would slow it). ``rest`` = RichSem - plain - teacher - branch: the rest
of the overhead (gathering the positive RoI features and their gradient,
the branch's SGD update, the soft-target bookkeeping) plus noise.

  python benchmarks/richsem_step_overhead.py                  # ~3 min, 2 cores
  python benchmarks/richsem_step_overhead.py --settings tiny  # < 30 s
  python benchmarks/richsem_step_overhead.py --settings r50 --steps 3 \\
      --threads 1                                              # shared CPU
  python benchmarks/richsem_step_overhead.py --device cuda --r50-size 800 \\
      --steps 20
"""
from __future__ import annotations

import argparse
import copy
import math
import os.path as osp
import statistics
import sys
import tempfile
import time

import numpy as np
import torch

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
PLAIN_CONFIG = ('configs/richsem/'
                'faster-rcnn_r18-narrow_fpn_baseline_ovd-shapes-lt.py')
RICHSEM_CONFIG = ('configs/richsem/'
                  'faster-rcnn_r18-narrow_fpn_soft-det_ovd-shapes-lt.py')
#: the LVIS RichSem config, used for the r50 setting when it exists
R50_CONFIG = 'configs/richsem/faster-rcnn_r50_fpn_richsem_1x_lvis-imagenet.py'
R50_BASE = 'configs/_base_/models/faster-rcnn_r50_fpn_clip-head.py'
GOAL = 1.3


def _cfg(path: str):
    from mmengine.config import Config
    return Config.fromfile(osp.join(ROOT, path))


def write_vocabulary(tmp: str, clip: str, classes: int, seed: int) -> str:
    """Random unit-row class embeddings of ``clip``'s embed dim, the sidecar
    naming ``clip`` (the teacher checks it)."""
    import open_clip

    import ovd_ext  # noqa: F401  (registers ovd-tiny-rn with open_clip)
    from ovd_ext.vlm.vocabulary import save_class_embeddings
    config = open_clip.get_model_config(clip)
    if config is None:
        raise KeyError(f'{clip}: no open_clip / ovd_ext model config')
    rng = np.random.default_rng(seed)
    path = osp.join(tmp, f'vocab_{clip}_{classes}.npy')
    emb = rng.normal(size=(classes, config['embed_dim']))
    save_class_embeddings(path, emb, [f'class_{i}' for i in range(classes)],
                          model=clip, prompts='random')
    return path


def class_counts(classes: int, seed: int) -> list[float]:
    """Long-tailed random image counts (federated loss sampling weights)."""
    rng = np.random.default_rng(seed)
    return [float(c) for c in np.ceil(rng.pareto(1.0, classes) * 10 + 1)]


def swap_vocabulary(model, vocab: str, clip: str, classes: int,
                    layer: str | None, seed: int) -> None:
    """Point every vocabulary of a model config at ``vocab``, the teacher at
    a random ``clip``, the federated loss at random counts."""
    head = model.roi_head.bbox_head
    head.vocabulary = vocab
    if 'num_classes' in head:
        head.num_classes = classes
    loss = head.get('loss_cls', {})
    if loss.get('type') == 'FederatedSigmoidLoss':
        loss.class_frequency = class_counts(classes, seed)
        loss.pop('classes', None)
        loss.excluded_classes = ()
    if model.get('teacher'):
        model.teacher.vocabulary = vocab
        model.teacher.clip = dict(name=clip, checkpoint=None)
        if layer is not None:
            model.teacher.layer = layer
    if model.roi_head.get('semantic_branch'):
        model.roi_head.semantic_branch.vocabulary = vocab


def strip_richsem(model):
    """The same detector without teacher and semantic branch."""
    model = copy.deepcopy(model)
    model.teacher = None
    model.roi_head.semantic_branch = None
    return model


def r50_models(vocab: str, classes: int, seed: int):
    """(plain, RichSem) model configs and optim_wrapper cfg of the r50
    setting, and where they come from."""
    if osp.isfile(osp.join(ROOT, R50_CONFIG)):
        cfg = _cfg(R50_CONFIG)
        rich = copy.deepcopy(cfg.model)
        source = R50_CONFIG
    else:
        cfg = _cfg(RICHSEM_CONFIG)
        base = _cfg(R50_BASE).model
        rich = copy.deepcopy(cfg.model)
        for key in ('backbone', 'neck', 'rpn_head', 'train_cfg', 'test_cfg'):
            rich[key] = copy.deepcopy(base[key])
        rich.roi_head.bbox_roi_extractor = copy.deepcopy(
            base.roi_head.bbox_roi_extractor)
        rich.roi_head.bbox_head.update(
            in_channels=base.roi_head.bbox_head.in_channels,
            fc_out_channels=base.roi_head.bbox_head.fc_out_channels,
            roi_feat_size=base.roi_head.bbox_head.roi_feat_size)
        rich.roi_head.semantic_branch.update(in_channels=256 * 7 * 7,
                                             fc_channels=1024)
        source = f'{RICHSEM_CONFIG} with R50-FPN sizes of {R50_BASE}'
    rich.backbone.init_cfg = None          # random weights, no download
    swap_vocabulary(rich, vocab, 'RN50-quickgelu', classes, 'layer4', seed)
    return strip_richsem(rich), rich, cfg.get('optim_wrapper', {}), source


def tiny_models(vocab: str, classes: int, seed: int):
    plain, rich = _cfg(PLAIN_CONFIG).model, _cfg(RICHSEM_CONFIG)
    optim = rich.get('optim_wrapper', {})
    plain, rich = copy.deepcopy(plain), copy.deepcopy(rich.model)
    for m in (plain, rich):
        swap_vocabulary(m, vocab, 'ovd-tiny-rn', classes, None, seed)
    return plain, rich, optim, f'{PLAIN_CONFIG} / {RICHSEM_CONFIG}'


def build(model_cfg, optim_cfg: dict, args):
    """Model on ``args.device`` (teacher built) and an SGD OptimWrapper
    with the config's gradient clipping."""
    from mmdet.registry import MODELS
    from mmengine.optim import OptimWrapper
    torch.manual_seed(args.seed)
    model = MODELS.build(copy.deepcopy(model_cfg))
    model.init_weights()
    model = model.to(args.device).train()
    if getattr(model, '_teacher_cfg', None) is not None:
        model.build_teacher(torch.device(args.device))
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=args.lr, momentum=0.9,
                                weight_decay=1e-4)
    clip_grad = optim_cfg.get('clip_grad') if optim_cfg else None
    return model, OptimWrapper(optimizer, clip_grad=clip_grad)


def synthetic_batch(batch: int, size: int, gts: int, classes: int,
                    seed: int) -> dict:
    """Raw data as a dataloader gives it: uint8 ``[3, H, W]`` images and
    ``DetDataSample`` s with ``gts`` random boxes / labels each."""
    from mmdet.structures import DetDataSample
    from mmdet.structures.bbox import HorizontalBoxes
    from mmengine.structures import InstanceData
    g = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    inputs, samples = [], []
    for _ in range(batch):
        inputs.append(torch.randint(0, 256, (3, size, size), generator=g,
                                    dtype=torch.uint8))
        w = rng.uniform(16, size / 2, gts)
        h = rng.uniform(16, size / 2, gts)
        x1, y1 = rng.uniform(0, size - w), rng.uniform(0, size - h)
        s = DetDataSample(metainfo=dict(
            img_shape=(size, size), ori_shape=(size, size),
            scale_factor=(1., 1.), flip=False, flip_direction=None))
        s.gt_instances = InstanceData(
            bboxes=HorizontalBoxes(torch.tensor(
                np.stack([x1, y1, x1 + w, y1 + h], 1), dtype=torch.float32)),
            labels=torch.from_numpy(rng.integers(0, classes, gts)))
        s.ignored_instances = InstanceData(
            bboxes=HorizontalBoxes(torch.zeros(0, 4)),
            labels=torch.zeros(0, dtype=torch.long))
        samples.append(s)
    return dict(inputs=inputs, data_samples=samples)


class ForwardTimer:
    """Wall seconds spent in a module's forward per step (forward hooks:
    no effect on the step's graph)."""

    def __init__(self, module, device: str):
        self.device, self.seconds, self._t = device, 0.0, None
        module.register_forward_pre_hook(self._pre)
        module.register_forward_hook(self._post)

    def _now(self) -> float:
        _sync(self.device)
        return time.perf_counter()

    def _pre(self, *a):
        self._t = self._now()

    def _post(self, *a):
        self.seconds += self._now() - self._t


class BranchRecorder:
    """Keeps the semantic branch's last ``loss`` inputs so that its forward
    + backward can be timed alone, outside the timed step (backward hooks
    inside the step would slow it down)."""

    def __init__(self, branch):
        self.branch, self.inputs = branch, None
        loss = branch.loss

        def recording_loss(feats, teacher_logits, *a, **kw):
            self.inputs = (feats.detach(), teacher_logits.detach(), a, kw)
            return loss(feats, teacher_logits, *a, **kw)

        branch.loss = recording_loss
        self._loss = loss

    def time_alone(self, device: str) -> float:
        """Seconds of the branch's loss (``H_soft``, ``Contrast``, KL) +
        backward to its input and weights on the last step's inputs."""
        feats, logits, a, kw = self.inputs
        feats = feats.clone().requires_grad_()
        _sync(device)
        t = time.perf_counter()
        self._loss(feats, logits, *a, **kw).backward()
        _sync(device)
        seconds = time.perf_counter() - t
        for p in self.branch.parameters():
            p.grad = None
        return seconds


def _sync(device: str) -> None:
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def measure(setting: str, args, tmp: str) -> dict:
    from mmdet.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    tiny = setting == 'tiny'
    clip = 'ovd-tiny-rn' if tiny else 'RN50-quickgelu'
    classes = args.tiny_classes if tiny else args.r50_classes
    size = args.tiny_size if tiny else args.r50_size
    batch = args.tiny_batch if tiny else args.r50_batch
    gts = args.tiny_gts if tiny else args.r50_gts
    steps = args.steps or (10 if tiny else 3)
    vocab = write_vocabulary(tmp, clip, classes, args.seed)
    plain_cfg, rich_cfg, optim_cfg, source = (
        tiny_models if tiny else r50_models)(vocab, classes, args.seed)
    models = dict(plain=build(plain_cfg, optim_cfg, args),
                  richsem=build(rich_cfg, optim_cfg, args))
    rich = models['richsem'][0]
    teacher = ForwardTimer(rich.teacher, args.device)
    branch = BranchRecorder(rich.semantic_branch)
    print(f'[{setting}] {source}: teacher {clip} layer '
          f'{rich.teacher.layer}, {classes} classes, {batch}x{size}x{size}, '
          f'{gts} gt/image', flush=True)

    wall = {k: [] for k in models}
    cpu = {k: [] for k in models}
    t_teacher, t_branch = [], []
    for r in range(args.warmup + steps):
        data = synthetic_batch(batch, size, gts, classes, args.seed + r)
        order = list(models) if r % 2 == 0 else list(models)[::-1]
        for name in order:
            model, optim = models[name]
            d = copy.deepcopy(data)    # the teacher writes into the samples
            teacher.seconds = 0.0
            _sync(args.device)
            t0, c0 = time.perf_counter(), time.process_time()
            log = model.train_step(d, optim)
            _sync(args.device)
            t1, c1 = time.perf_counter(), time.process_time()
            loss = log['loss']
            if not math.isfinite(float(torch.as_tensor(loss).detach())):
                raise FloatingPointError(f'{setting}/{name}: loss {log}')
            if r < args.warmup:
                continue
            wall[name].append(t1 - t0)
            cpu[name].append(c1 - c0)
            if name == 'richsem':
                t_teacher.append(teacher.seconds)
                t_branch.append(branch.time_alone(args.device))
        if r >= args.warmup:
            print(f'  step {r - args.warmup + 1}/{steps}: plain '
                  f'{wall["plain"][-1] * 1e3:.0f} ms, RichSem '
                  f'{wall["richsem"][-1] * 1e3:.0f} ms (teacher '
                  f'{t_teacher[-1] * 1e3:.0f} ms)', flush=True)
    med = statistics.median
    return dict(setting=setting, input=f'{batch}x{size}x{size}',
                classes=classes, clip=clip, steps=steps,
                plain=med(wall['plain']), richsem=med(wall['richsem']),
                ratio=med([r / p for r, p in zip(wall['richsem'],
                                                 wall['plain'])]),
                cpu_ratio=med([r / p for r, p in zip(cpu['richsem'],
                                                     cpu['plain'])]),
                teacher=med(t_teacher), branch=med(t_branch))


def parse_args():
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument('--settings', nargs='+', default=['tiny', 'r50'],
                   choices=['tiny', 'r50'])
    p.add_argument('--steps', type=int, default=None,
                   help='timed rounds (one step of each detector), median '
                   'reported (default: 10 tiny, 3 r50)')
    p.add_argument('--warmup', type=int, default=2,
                   help='untimed rounds first (default 2: the first steps '
                   'are slower, allocator and caches)')
    p.add_argument('--tiny-size', type=int, default=192)
    p.add_argument('--tiny-batch', type=int, default=4)
    p.add_argument('--tiny-classes', type=int, default=20)
    p.add_argument('--tiny-gts', type=int, default=4)
    p.add_argument('--r50-size', type=int, default=512,
                   help='image side of the r50 setting (default 512: LVIS '
                   'sizes, 800-1333, are too slow on 2 cores)')
    p.add_argument('--r50-batch', type=int, default=2)
    p.add_argument('--r50-classes', type=int, default=1203)
    p.add_argument('--r50-gts', type=int, default=12)
    p.add_argument('--lr', type=float, default=1e-3, help='SGD lr')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--device', default='cpu')
    p.add_argument('--threads', type=int, default=None,
                   help='torch threads (default: what torch picks). On a '
                   'machine shared with other jobs --threads 1 is much '
                   'steadier')
    return p.parse_args()


def main() -> int:
    args = parse_args()
    from mmengine.logging import MMLogger
    # the current logger: quiet init_weights' per-parameter INFO lines
    MMLogger.get_instance('richsem_step_overhead', log_level='WARNING')
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f'{args.device}, {torch.get_num_threads()} threads, random weights, '
          f'{args.warmup} warm-up round(s), seed {args.seed}', flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for setting in args.settings:
            rows.append(measure(setting, args, tmp))
    print('\n| setting | teacher CLIP | input BxHxW | classes | steps | '
          'plain ms/step | RichSem ms/step | ratio | CPU ratio | '
          'teacher ms | branch ms | rest ms | goal <= '
          f'{GOAL}x |')
    print('|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|')
    for r in rows:
        ratio = r['ratio']
        branch = r['branch']
        rest = r['richsem'] - r['plain'] - r['teacher'] - branch
        print(f'| {r["setting"]} | {r["clip"]} | {r["input"]} | '
              f'{r["classes"]} | {r["steps"]} | {r["plain"] * 1e3:.0f} | '
              f'{r["richsem"] * 1e3:.0f} | {ratio:.2f}x | '
              f'{r["cpu_ratio"]:.2f}x | '
              f'{r["teacher"] * 1e3:.0f} ({r["teacher"] / r["richsem"]:.0%}) '
              f'| {branch * 1e3:.1f} | {rest * 1e3:.0f} | '
              f'{"met" if ratio <= GOAL else "NOT met"} |')
    print('\nms/step: medians (wall); ratio: median over rounds of RichSem '
          'step / plain step on the same batch (wall), CPU ratio the same on '
          'process CPU time; teacher: its forward inside '
          'the RichSem step (share of that step); branch: H_soft + Contrast '
          '+ KL forward and backward timed alone; rest = RichSem - plain - '
          'teacher - branch (RoI gather, branch SGD update, bookkeeping, '
          'noise).')
    return 0


if __name__ == '__main__':
    sys.exit(main())
