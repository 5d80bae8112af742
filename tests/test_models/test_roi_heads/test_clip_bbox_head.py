import numpy as np
import pytest
import torch
from mmdet.registry import MODELS
from mmdet.structures.bbox import bbox2roi  # noqa: F401 (mmdet registry init)

import ovd_ext  # noqa: F401
from ovd_ext.models.roi_heads import clip_bbox_head

CLASSES = ['cat', 'dog', 'cow', 'zebra']


def build_head(vocab, **kwargs):
    cfg = dict(type='CLIPBBoxHead', vocabulary=vocab, in_channels=8,
               fc_out_channels=32, roi_feat_size=7, **kwargs)
    return MODELS.build(cfg)


def test_shapes_follow_vocabulary(vocab_factory):
    head = build_head(vocab_factory(CLASSES))
    cls_score, bbox_pred = head(torch.randn(6, 8, 7, 7))
    assert head.num_classes == 4
    assert cls_score.shape == (6, 5)
    assert bbox_pred.shape == (6, 4)      # class-agnostic by default


def test_num_classes_mismatch_is_a_clear_error(vocab_factory):
    path = vocab_factory(CLASSES)
    with pytest.raises(ValueError, match=r'4 classes.*num_classes=80'):
        build_head(path, num_classes=80)


def test_novel_classes_are_masked_from_the_loss(vocab_factory):
    head = build_head(vocab_factory(CLASSES), novel_classes=['cow'])
    assert head.train_excluded.tolist() == [False, False, True, False, False]
    torch.manual_seed(0)
    cls_score = torch.randn(8, 5, requires_grad=True)
    labels = torch.tensor([0, 1, 3, 4, 4, 4, 0, 1])
    zeros = torch.zeros(8, 4)
    losses = head.loss(cls_score, None, None, labels, torch.ones(8), zeros, zeros)
    losses['loss_cls'].backward()
    # the novel column gets no gradient: it is neither positive nor negative
    assert torch.all(cls_score.grad[:, 2] == 0)
    assert cls_score.grad[:, 0].abs().sum() > 0
    # equals CE over the base classes + background only
    keep = [0, 1, 3, 4]
    remap = torch.tensor([0, 1, -1, 2, 3])
    expected = torch.nn.functional.cross_entropy(cls_score[:, keep].detach(),
                                                 remap[labels])
    torch.testing.assert_close(losses['loss_cls'], expected)



def test_masked_novel_logit_takes_no_part_in_the_softmax(vocab_factory):
    head = build_head(vocab_factory(CLASSES), novel_classes=['cow'])
    torch.manual_seed(0)
    base = torch.randn(8, 5)
    labels = torch.tensor([0, 1, 3, 4, 4, 4, 0, 1])
    zeros = torch.zeros(8, 4)
    losses = []
    for novel_logit in (-30.0, 0.0, 30.0):
        cls_score = base.clone()
        cls_score[:, 2] = novel_logit   # how strongly the model says "cow"
        losses.append(head.loss(cls_score, None, None, labels, torch.ones(8),
                                zeros, zeros)['loss_cls'])
    # identical to the last bit: the novel column has probability exactly 0
    assert losses[0].item() == losses[1].item() == losses[2].item()
    keep = [0, 1, 3, 4]
    remap = torch.tensor([0, 1, -1, 2, 3])
    expected = torch.nn.functional.cross_entropy(base[:, keep], remap[labels])
    torch.testing.assert_close(losses[0], expected)
    # without the mask a confident novel logit would dominate the softmax
    unmasked = torch.nn.functional.cross_entropy(
        torch.cat([base[:, :2], torch.full((8, 1), 30.0), base[:, 3:]], 1),
        labels)
    assert unmasked.item() > 20 > expected.item()


def test_masked_logit_keeps_sigmoid_losses_finite(vocab_factory, monkeypatch):
    head = build_head(vocab_factory(CLASSES), novel_classes=['cow'],
                      loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=True))
    torch.manual_seed(0)
    cls_score = torch.randn(8, 5, requires_grad=True)
    labels = torch.tensor([0, 1, 3, 4, 4, 4, 0, 1])
    zeros = torch.zeros(8, 4)
    args = (None, None, labels, torch.ones(8), zeros, zeros)
    loss = head.loss(cls_score, *args)['loss_cls']
    loss.backward()
    # the novel column is a negative that costs exactly 0 and pulls nothing
    assert torch.all(cls_score.grad[:, 2] == 0)
    keep = [0, 1, 3, 4]
    target = torch.nn.functional.one_hot(labels, 5).float()
    expected = torch.nn.functional.binary_cross_entropy_with_logits(
        cls_score[:, keep].detach(), target[:, keep], reduction='sum') / 8
    torch.testing.assert_close(loss, expected)
    assert loss.item() == pytest.approx(3.1533, abs=1e-4)
    # why the mask is finite: -inf would give inf * 0 = NaN in the sigmoid loss
    monkeypatch.setattr(clip_bbox_head, 'MASKED_LOGIT', float('-inf'))
    assert torch.isnan(head.loss(cls_score.detach(), *args)['loss_cls'])

def test_background_weight_changes_loss(vocab_factory):
    path = vocab_factory(CLASSES)
    cls_score = torch.randn(8, 5)
    labels = torch.tensor([0, 1, 3, 4, 4, 4, 4, 4])
    zeros = torch.zeros(8, 4)
    args = (cls_score, None, None, labels, torch.ones(8), zeros, zeros)
    full = build_head(path).loss(*args)['loss_cls']
    low = build_head(path, loss_cls=dict(type='FocalScaledCrossEntropyLoss',
                                         bg_weight=0.2)).loss(*args)['loss_cls']
    ce = torch.nn.functional.cross_entropy(cls_score, labels, reduction='none')
    is_bg = labels == 4
    torch.testing.assert_close(full, ce.mean())
    torch.testing.assert_close(low, (ce[~is_bg].sum() + 0.2 * ce[is_bg].sum()) / 8)


def test_missing_vocabulary_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match='needs `vocabulary`'):
        build_head(None)
    with pytest.raises(FileNotFoundError, match='embed_vocabulary'):
        build_head(str(tmp_path / 'absent.npy'))


def test_unknown_novel_class_rejected(vocab_factory):
    with pytest.raises(ValueError, match="'tiger' is not in the vocabulary"):
        build_head(vocab_factory(CLASSES), novel_classes=['tiger'])


def test_vocabulary_swap_keeps_weights(vocab_factory):
    head = build_head(vocab_factory(CLASSES), novel_classes=['cow'])
    head.eval()
    feats = torch.randn(3, 8, 7, 7)
    before, box_before = head(feats)
    new = torch.randn(7, 16)
    head.set_vocabulary(new, [f'c{i}' for i in range(7)])
    after, box_after = head(feats)
    assert head.num_classes == 7 and after.shape == (3, 8)
    torch.testing.assert_close(box_after, box_before)   # same weights
    assert not head.train_excluded.any()


def test_federated_loss_never_samples_novel(vocab_factory):
    head = build_head(vocab_factory(CLASSES), novel_classes=['dog'],
                      loss_cls=dict(type='FederatedSigmoidLoss',
                                    class_frequency=[5, 5, 5, 5]))
    assert head.loss_cls.freq_weight.tolist()[1] == 0
    scores = head.loss_cls.get_activation(torch.randn(2, 5))
    assert scores.shape == (2, 5)


# --- bg_embedding='text' (DITO Sec. 3.1): the 'background' row is no class

def test_text_background_row_is_not_a_class(vocab_factory):
    path = vocab_factory(['background', *CLASSES])
    head = build_head(path, bg_embedding='text', novel_classes=['cow'])
    assert head.num_classes == 4 and head.class_names == CLASSES
    cls_score, _ = head(torch.randn(6, 8, 7, 7))
    assert cls_score.shape == (6, 5)
    # novel exclusion indexes the classes without the background row
    assert head.train_excluded.tolist() == [False, False, True, False, False]
    # the background column is s * cos with the 'background' row
    emb = torch.from_numpy(np.load(path))
    x = torch.randn(3, 32)
    region = torch.nn.functional.normalize(head.fc_cls.proj(x), dim=1)
    torch.testing.assert_close(head.fc_cls(x)[:, 4], 50.0 * region @ emb[0])
    # an explicit num_classes is checked against the classes without it
    head = build_head(path, bg_embedding='text', num_classes=4)
    assert head.num_classes == 4
    with pytest.raises(ValueError,
                       match=r"4 classes besides 'background' .*=5"):
        build_head(path, bg_embedding='text', num_classes=5)
    # other modes keep counting every row
    assert build_head(path).num_classes == 5


def test_text_background_needs_the_entry_in_the_head(vocab_factory):
    path = vocab_factory(CLASSES)
    with pytest.raises(ValueError, match="has no 'background' class") as err:
        build_head(path, bg_embedding='text')
    assert path in str(err.value)
    with pytest.raises(ValueError, match="has no 'background' class"):
        MODELS.build(dict(type='CLIPEmbeddingBBoxHead', vocabulary=path,
                          in_channels=16, bg_embedding='text'))


def test_embedding_head_text_background_and_swap(vocab_factory):
    path = vocab_factory(['background', *CLASSES])
    head = MODELS.build(dict(type='CLIPEmbeddingBBoxHead', vocabulary=path,
                             in_channels=16, bg_embedding='text',
                             novel_classes=['zebra']))
    assert head.num_classes == 4
    assert head.train_excluded.tolist() == [False, False, False, True, False]
    scores, _ = head(torch.randn(2, 16))    # RoI vectors (C4 attnpool)
    assert scores.shape == (2, 5)
    # a swapped-in vocabulary with a background row: still not a class
    head.set_vocabulary(torch.randn(3, 16), ['background', 'x', 'y'])
    assert head.num_classes == 2 and head.class_names == ['x', 'y']
    assert head.train_excluded.shape == (3,)
    scores, _ = head(torch.randn(2, 16))    # RoI vectors (C4 attnpool)
    assert scores.shape == (2, 3)
