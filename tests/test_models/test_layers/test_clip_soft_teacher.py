"""RichSem's online CLIP teacher (Eq. 1-2): re-normalisation of the
detector's batch, the one region-embedding path, errors, nothing saved."""
import numpy as np
import pytest
import torch

from ovd_ext.models.layers import CLIPSoftLabelTeacher
from ovd_ext.vlm import encode_regions
from ovd_ext.vlm.vocabulary import save_class_embeddings

CLIP = dict(name='ovd-tiny-rn', checkpoint='checkpoints/ovd_shapes/ovd-tiny-rn.pt')
MEAN = torch.tensor([123.675, 116.28, 103.53]).view(1, 3, 1, 1)
STD = torch.tensor([58.395, 57.12, 57.375]).view(1, 3, 1, 1)


@pytest.fixture(scope='module')
def vocab(tmp_path_factory):
    rng = np.random.default_rng(0)
    path = str(tmp_path_factory.mktemp('v') / 'v.npy')
    save_class_embeddings(path, rng.normal(size=(5, 128)),
                          [f'c{i}' for i in range(5)],
                          model='ovd-tiny-rn:x.pt', prompts='none')
    return path


@pytest.fixture(scope='module')
def teacher(vocab):
    return CLIPSoftLabelTeacher(CLIP, vocab, layer='layer3')


def test_renormalises_the_detector_batch(teacher):
    torch.manual_seed(0)
    raw = torch.rand(1, 3, 64, 96) * 255                      # RGB pixels
    det = (raw - MEAN) / STD
    clip_mean = teacher.clip.mean.view(1, 3, 1, 1)
    clip_std = teacher.clip.std.view(1, 3, 1, 1)
    want = (raw / 255 - clip_mean) / clip_std
    assert torch.allclose(teacher.clip_inputs(det), want, atol=1e-5)
    teacher.detector_rgb = False     # a BGR detector: channels flipped back
    try:
        bgr = (raw.flip(1) - MEAN) / STD
        assert torch.allclose(teacher.clip_inputs(bgr),
                              (raw.flip(1).flip(1) / 255 - clip_mean) /
                              clip_std, atol=1e-5)
    finally:
        teacher.detector_rgb = True


def test_logits_are_scaled_cosines_of_region_embeddings(teacher):
    torch.manual_seed(1)
    raw = torch.rand(2, 3, 96, 96) * 255
    boxes = [torch.tensor([[0., 0., 96., 96.], [10., 20., 50., 70.]]),
             torch.tensor([[5., 5., 40., 90.]])]
    logits = teacher((raw - MEAN) / STD, boxes)
    assert logits.shape == (3, 5)
    emb = encode_regions(teacher.clip, teacher.clip_inputs((raw - MEAN) / STD),
                         boxes, layer='layer3', sampling_ratio=2)
    want = teacher.logit_scale * emb @ teacher.class_embeddings.t()
    assert torch.allclose(logits, want, atol=1e-4)
    # the tiny CLIP's own temperature (1 / 0.0726), not a made-up one
    assert teacher.logit_scale == pytest.approx(
        teacher.clip.model.logit_scale.exp().item())
    assert not logits.requires_grad
    assert teacher((raw - MEAN) / STD, [torch.zeros(0, 4)] * 2).shape == (0, 5)


def test_input_scale_scales_boxes_along(vocab):
    t1 = CLIPSoftLabelTeacher(CLIP, vocab, layer='layer3')
    t2 = CLIPSoftLabelTeacher(CLIP, vocab, layer='layer3', input_scale=2.0)
    x = torch.zeros(1, 3, 64, 64)
    box = [torch.tensor([[0., 0., 64., 64.]])]
    assert t2.clip_inputs(x).shape[-1] == 128
    # a constant image: the same region at either scale gives the same class
    assert t1(x, box).argmax() == t2(x, box).argmax()


def test_nothing_is_saved_and_eval_mode(teacher):
    assert list(teacher.state_dict()) == []     # rebuilt from its files
    teacher.train()
    assert not teacher.training and not teacher.clip.training


def test_vocabulary_errors(tmp_path):
    other = str(tmp_path / 'o.npy')
    save_class_embeddings(other, np.eye(3, 128), ['a', 'b', 'c'],
                          model='RN50:x.pt', prompts='none')
    with pytest.raises(ValueError, match='embedded with'):
        CLIPSoftLabelTeacher(CLIP, other)
    wrong_d = str(tmp_path / 'd.npy')
    save_class_embeddings(wrong_d, np.eye(3, 64), ['a', 'b', 'c'],
                          model='ovd-tiny-rn:x.pt', prompts='none')
    with pytest.raises(ValueError, match='64'):
        CLIPSoftLabelTeacher(CLIP, wrong_d)
