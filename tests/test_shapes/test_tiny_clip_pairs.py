"""Tiny-CLIP training pairs (ovd_ext.shapes.tiny_clip) and the generic
trainer (ovd_ext.vlm.training) on a few generated OVD-Shapes images."""
import os
import os.path as osp
import re

import numpy as np
import pytest
import torch

from ovd_ext.shapes import CLASSES
from ovd_ext.shapes.categories import SYNONYMS
from ovd_ext.shapes.textures import PATTERN_WORDS
from ovd_ext.shapes.tiny_clip import (CAPTION_KEY_OFFSET, DescriptionConfig,
                                      ShapesPairs, describe_object)
from ovd_ext.testing import make_shapes
from ovd_ext.vlm import build_clip
from ovd_ext.vlm.crops import crop_bounds
from ovd_ext.vlm.image import resize_normalize
from ovd_ext.vlm.training import (JitterConfig, TrainConfig, contrastive_step,
                                  jitter_box, mirror_text, save_fp16_weights,
                                  train_clip)
from ovd_ext.vlm.training.loop import step_rng

NO_JITTER = JitterConfig(scale_range=(1.0, 1.0), shift=0.0, aspect=0.0,
                         flip_prob=0.0)


@pytest.fixture(scope='module')
def shapes_root(tmp_path_factory):
    return make_shapes(tmp_path_factory.mktemp('shapes'), 10, 4, 4, seed=7)


@pytest.fixture(scope='module')
def vit():
    torch.manual_seed(0)
    return build_clip('ovd-tiny-vit', None, frozen=False)


def _class_words(text: str) -> set[str]:
    """Every class whose name or synonym occurs in ``text`` as words."""
    return {c for c, names in SYNONYMS.items()
            if any(re.search(rf'\b{re.escape(n)}s?\b', text) for n in names)}


def test_crops_match_their_descriptions(shapes_root, vit):
    pairs = ShapesPairs(shapes_root, CLASSES, SYNONYMS, PATTERN_WORDS,
                        jitter=NO_JITTER, progress=False)
    assert len(pairs.crops) > 10 and len(pairs.imagelabels) == 4
    assert not any(f.startswith('val/') for f in pairs.files)
    rng = np.random.default_rng(0)
    for i, c in enumerate(pairs.crops):
        image, text, key = pairs.crop_pair(vit, i, rng)
        assert key == c.label
        # the description names exactly the crop's class (one of its names)
        assert _class_words(text) == {CLASSES[c.label]}, text
        # without jitter the crop is the GT box cut as encode_crops does it
        img = pairs.images[c.image]
        x1, y1, x2, y2 = crop_bounds(torch.as_tensor(c.box)[None],
                                     tuple(img.shape[1:]))[0].tolist()
        ref = resize_normalize(vit, img[:, y1:y2, x1:x2].float() / 255)
        assert image.shape == (3, 64, 64)
        assert torch.allclose(image, ref, atol=1e-5)
    for i, (_, label) in enumerate(pairs.imagelabels):
        _, text, key = pairs.imagelabel_pair(vit, i, rng)
        assert key == label and _class_words(text) == {CLASSES[key]}


def test_batch_mix_keys_and_determinism(shapes_root, vit):
    pairs = ShapesPairs(shapes_root, CLASSES, SYNONYMS, PATTERN_WORDS,
                        progress=False)
    assert pairs.counts(20) == {'crop': 13, 'imagelabel': 3, 'caption': 4}
    b1 = pairs.sample(vit, 20, step_rng(3, 5))
    b2 = pairs.sample(vit, 20, step_rng(3, 5))
    assert b1.texts == b2.texts and torch.equal(b1.images, b2.images)
    assert b1.images.shape == (20, 3, 64, 64)
    for src, key in zip(b1.sources, b1.keys.tolist()):
        assert (key >= CAPTION_KEY_OFFSET) == (src == 'caption')


def test_refuses_validation_images(shapes_root, tmp_path):
    root = tmp_path / 'leaky'
    (root / 'annotations').mkdir(parents=True)
    os.symlink(osp.join(shapes_root, 'images'), root / 'images')
    for f in os.listdir(osp.join(shapes_root, 'annotations')):
        src = 'instances_val.json' if f == 'instances_train.json' else f
        os.symlink(osp.join(shapes_root, 'annotations', src),
                   root / 'annotations' / f)
    with pytest.raises(ValueError, match='validation image'):
        ShapesPairs(str(root), CLASSES, SYNONYMS, PATTERN_WORDS,
                    progress=False)


def test_descriptions_and_augment_helpers():
    rng = np.random.default_rng(0)
    cfg = DescriptionConfig(attribute_prob=1.0, pattern_prob=1.0,
                            synonym_prob=0.0)
    text = describe_object(['star'], rng, 'red', 'striped', cfg)
    assert 'striped red star' in text
    assert mirror_text('A cup on the Left, left of a key; leftover') == \
        'A cup on the Right, right of a key; leftover'
    box = jitter_box(np.array([10, 20, 30, 60]), (100, 100), rng, NO_JITTER)
    assert box.tolist() == [10, 20, 30, 60]
    box = jitter_box(np.array([90, 90, 99, 99]), (100, 100), rng,
                     JitterConfig(scale_range=(3.0, 3.0), shift=0.0,
                                  aspect=0.0))
    assert box.max() <= 100 and box[0] == pytest.approx(81)


class _FixedBatch:
    """A sampler that always returns the same batch (overfitting probe)."""

    def __init__(self, batch):
        self.batch = batch

    def sample(self, clip, batch_size, rng):
        return self.batch


class _Interrupt(Exception):
    pass


@pytest.fixture
def one_thread():
    """Oversubscribed shared CPUs make 2 spinning OpenMP threads slower
    than one; the numbers checked here do not depend on it."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def test_few_steps_lower_the_loss_resume_and_fp16(shapes_root, tmp_path,
                                                  one_thread):
    pairs = ShapesPairs(shapes_root, CLASSES, SYNONYMS, PATTERN_WORDS,
                        progress=False)
    torch.manual_seed(0)
    clip = build_clip('ovd-tiny-vit', None, frozen=False)
    init = {k: v.clone() for k, v in clip.model.state_dict().items()}
    probe = _FixedBatch(pairs.sample(clip, 16, step_rng(99, 0)))
    with torch.no_grad():
        before = float(contrastive_step(clip, probe.batch))
    cfg = TrainConfig(steps=10, batch_size=16, lr=1e-3, seed=1, save_every=3)
    stats = train_clip(clip, probe, cfg, progress=False)
    with torch.no_grad():
        after = float(contrastive_step(clip, probe.batch))
    # measured: 3.06 -> 1.76; chance (uniform) is log 16 = 2.77
    assert before > 2.9 and after < 2.0, (before, after)
    assert stats['logit_scale'] <= 100.0 and len(stats['losses']) == 10

    # interrupted after 7 steps (state saved at 6), resumed: same losses
    other = build_clip('ovd-tiny-vit', None, frozen=False)
    other.model.load_state_dict(init)

    def stop(step, loss):
        if step == 6:
            raise _Interrupt
    with pytest.raises(_Interrupt):
        train_clip(other, probe, cfg, work_dir=str(tmp_path),
                   progress=False, on_step=stop)
    resumed = train_clip(other, probe, cfg, work_dir=str(tmp_path),
                         resume=True, progress=False)
    assert resumed['resumed_from'] == 6
    assert resumed['losses'] == pytest.approx(stats['losses'], abs=1e-4)
    with pytest.raises(ValueError, match='other settings'):
        train_clip(other, probe, TrainConfig(steps=11), str(tmp_path),
                   resume=True, progress=False)

    # fp16 weights load strictly through build_clip, ~ the same loss
    path = str(tmp_path / 'tiny.pt')
    save_fp16_weights(clip.model, path)
    mask = os.umask(0)
    os.umask(mask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~mask
    assert sorted(os.listdir(tmp_path)) == ['resume.pth', 'tiny.pt']  # no tmp
    assert all(v.dtype == torch.float16 for v in
               torch.load(path, weights_only=True).values())
    loaded = build_clip('ovd-tiny-vit', path)
    with torch.no_grad():
        again = float(contrastive_step(loaded, probe.batch))
    assert again == pytest.approx(after, abs=0.05)

