"""VL-PLM Eq. 4, label spaces (supplement B.3), threshold and NMS, each on
hand-computed inputs, and the checks of every numeric setting. (Eq. 5, the
shared zero-shot scorer: tests/test_vlm/test_zero_shot.py.)"""
import numpy as np
import pytest
import torch

from ovd_ext.pseudo_labels.vl_plm import (DEFAULT_PL_NMS_IOU, TAU,
                                          VLPLMSettings, build_label_space,
                                          confidence, fuse_scores,
                                          label_space_embeddings,
                                          threshold_and_nms)
from ovd_ext.vlm import ClassList, encode_text, save_class_embeddings


def test_paper_defaults():
    s = VLPLMSettings()
    assert (s.topk, s.rpn_nms_iou, s.refine_iters) == (1000, 0.3, 10)
    assert s.scales == (1.0, 1.5) and s.tau == TAU == 0.8
    assert s.label_space == 'novel' and s.bg_text == 'background'
    assert s.region_mode == 'crops' and s.logit_scale is None
    assert s.nms_iou == DEFAULT_PL_NMS_IOU == 0.6


def test_eq4_score_fusion_and_confidence():
    s = fuse_scores(torch.tensor([0.9, 0.6, 1.0], dtype=torch.float64),
                    torch.tensor([0.7, 0.95, 0.6], dtype=torch.float64))
    assert s.tolist() == pytest.approx([0.8, 0.775, 0.8])
    # c = [s >= tau] * s: exactly tau is kept
    assert confidence(s, 0.8).tolist() == pytest.approx([0.8, 0.0, 0.8])
    # float32 inputs (dyadic, so exact): (0.5 + 1) / 2 == 0.75 == tau
    s = fuse_scores(torch.tensor([0.5, 0.25]), torch.tensor([1.0, 0.5]))
    assert s.tolist() == [0.75, 0.375]
    assert confidence(s, 0.75).tolist() == [0.75, 0.0]


def test_label_spaces_from_supplement_b3():
    classes = ClassList(['cat', 'dog', 'sofa'], [['cat'], ['dog'],
                                                 ['sofa', 'couch']])
    sp = build_label_space(classes, ['sofa', 'cat'], 'novel')
    assert sp.names == ['cat', 'sofa'] and sp.num_targets == 2
    sp = build_label_space(classes, ['sofa'], 'novel+bg')
    assert sp.names == ['sofa', 'background'] and sp.extras == ['background']
    sp = build_label_space(classes, ['sofa'], 'novel+base')
    assert sp.names == ['sofa', 'cat', 'dog']
    assert sp.prompts[0] == ['sofa', 'couch']
    sp = build_label_space(classes, ['sofa'], 'novel+base+bg')
    assert sp.names == ['sofa', 'cat', 'dog', 'background']
    assert sp.targets == ['sofa'] and sp.num_targets == 1
    with pytest.raises(ValueError, match='not a dataset class'):
        build_label_space(classes, ['cow'])
    with pytest.raises(ValueError, match='unknown label space'):
        build_label_space(classes, ['cat'], 'novel+ov')


def test_label_space_embeddings_reuse_a_vocabulary(tiny_clip, tmp_path):
    classes = ClassList(['cat', 'dog'])
    space = build_label_space(classes, ['dog'], 'novel+base+bg')
    rng = np.random.default_rng(0)
    vocab = str(tmp_path / 'v.npy')
    rows = rng.normal(size=(2, tiny_clip.embed_dim))
    save_class_embeddings(vocab, rows, ['cat', 'dog'])
    emb = label_space_embeddings(tiny_clip, space, 'single', vocab)
    unit = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    assert np.allclose(emb[0].numpy(), unit[1], atol=1e-6)     # dog first
    assert np.allclose(emb[1].numpy(), unit[0], atol=1e-6)
    bg = encode_text(tiny_clip, [['background']], 'single')[0]
    assert torch.allclose(emb[2], bg, atol=1e-6)


def test_threshold_then_per_class_nms():
    boxes = torch.tensor([[0, 0, 10, 10],     # 0: kept (best)
                          [1, 0, 11, 10],     # 1: IoU .818 with 0 -> gone
                          [1, 0, 11, 10],     # 2: other class -> kept
                          [50, 50, 60, 60],   # 3: below tau -> gone
                          [0, 0, 10, 10],     # 4: s == tau but IoU 1 -> gone
                          [4, 0, 14, 10]],    # 5: IoU 60/140 with 0: kept
                         dtype=torch.float)
    scores = torch.tensor([0.9, 0.85, 0.85, 0.79, 0.8, 0.81])
    labels = torch.tensor([0, 0, 1, 0, 0, 0])
    keep = threshold_and_nms(boxes, scores, labels, tau=0.8,
                             iou_threshold=0.6)
    assert keep.tolist() == [0, 2, 5]
    # a looser NMS (IoU .4) also removes box 5
    keep = threshold_and_nms(boxes, scores, labels, 0.8, 0.4)
    assert keep.tolist() == [0, 2]
    assert threshold_and_nms(boxes, scores, labels, 0.95).numel() == 0


@pytest.mark.parametrize('setting, value, message', [
    ('tau', -0.1, r'tau must be a number in \[0, 1\], got -0.1'),
    ('tau', 1.5, r'tau must be a number in \[0, 1\]'),
    ('tau', float('nan'), r'tau .* got nan'),
    ('tau', '0.8', r"tau .* got '0.8'"),
    ('logit_scale', -1.0, r'logit_scale must be a number in \(0, inf\)'),
    ('logit_scale', 0.0, r'logit_scale'),
    ('nms_iou', 0.0, r'nms_iou must be a number in \(0, 1\]'),
    ('rpn_nms_iou', 1.01, r'rpn_nms_iou'),
    ('topk', 0, r'topk must be an integer in \[1, inf\)'),
    ('topk', 2.5, r'topk must be an integer'),
    ('refine_iters', -1, r'refine_iters'),
    ('max_regions', 0, r'max_regions'),
    ('min_size', float('inf'), r'min_size'),
    ('crop_batch_size', 0, r'crop_batch_size'),
    ('fast_short_side', -224, r'fast_short_side'),
    ('teacher_tau', 2.0, r'teacher_tau'),
    ('scales', (1.0, 0.0), r'scales\[1\] must be a number in \(0, inf\)'),
    ('scales', (), r'scales needs at least 1 value'),
    ('scales', 1.5, r'scales must be a list of numbers'),
    ('ms_short_sides', (224, 0, 1120), r'ms_short_sides\[1\]'),
    ('ms_area_thresholds', (16.0, 64.0), r'descending'),
    ('ms_area_thresholds', (64.0,), r'need 2 ms_area_thresholds'),
    ('label_space', 'novel+ov', r'label_space must be one of'),
    ('region_mode', 'roi', r'region_mode must be one of'),
    ('bg_text', '', r'bg_text'),
])
def test_every_numeric_setting_is_checked(setting, value, message):
    with pytest.raises(ValueError, match='VL-PLM settings: .*' + message):
        VLPLMSettings(**{setting: value})


def test_valid_settings_keep_their_values():
    s = VLPLMSettings(tau=1, max_regions=100.0, logit_scale=50,
                      scales=[1, 2], teacher_tau=0.0)
    assert s.tau == 1 and s.max_regions == 100 and isinstance(
        s.max_regions, int)
    assert s.scales == (1.0, 2.0) and s.logit_scale == 50
    assert s.to_dict()['scales'] == [1.0, 2.0]
    assert 'tau' in VLPLMSettings.fields()
