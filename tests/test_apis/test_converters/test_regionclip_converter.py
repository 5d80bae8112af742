"""RegionCLIP checkpoint converter on forged checkpoints with the official
(detectron2) key names, whose shapes come from the real target modules:
open_clip's ModifiedResNet and mmdet's RPN detector (ResNet caffe + FPN +
RPNHead). The converted key set must equal those modules' state-dict keys."""
from __future__ import annotations

import importlib.util
import os.path as osp
import re
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmdet.registry import MODELS
from mmdet.utils import register_all_modules
from open_clip.modified_resnet import ModifiedResNet

from ovd_ext.apis.converters.regionclip import (CLS_BG_SCORE, CLS_SCORE,
                                                classifier_rows,
                                                convert_regionclip,
                                                extract_state_dict)

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..', '..'))
TOOL = osp.join(ROOT, 'tools', 'model_converters', 'regionclip_to_mmdet.py')
D = 32
HEAD = ('layer4.', 'attnpool.')
BN_LEAF = r'(weight|bias|running_mean|running_var|num_batches_tracked)'
#: literal official names -> ours (from the RegionCLIP / detectron2 modules)
PINNED = {
    'backbone.bn2.running_var': 'backbone.bn2.running_var',
    'backbone.layer3.0.downsample.0.weight':
        'backbone.layer3.0.downsample.0.weight',
    'backbone.layer4.0.downsample.1.running_mean':
        'roi_head.shared_head.layer4.0.downsample.1.running_mean',
    'backbone.attnpool.positional_embedding':
        'roi_head.shared_head.attnpool.positional_embedding',
    'roi_heads.box_predictor.bbox_pred.weight':
        'roi_head.bbox_head.fc_reg.weight',
    'offline_backbone.bottom_up.stem.conv1.weight':
        'offline_rpn.backbone.conv1.weight',
    'offline_backbone.bottom_up.stem.conv1.norm.running_var':
        'offline_rpn.backbone.bn1.running_var',
    'offline_backbone.bottom_up.res2.0.shortcut.norm.bias':
        'offline_rpn.backbone.layer1.0.downsample.1.bias',
    'offline_backbone.bottom_up.res3.1.conv2.norm.weight':
        'offline_rpn.backbone.layer2.1.bn2.weight',
    'offline_backbone.bottom_up.res5.2.conv3.weight':
        'offline_rpn.backbone.layer4.2.conv3.weight',
    'offline_backbone.fpn_lateral2.weight':
        'offline_rpn.neck.lateral_convs.0.conv.weight',
    'offline_backbone.fpn_output5.bias':
        'offline_rpn.neck.fpn_convs.3.conv.bias',
    'offline_proposal_generator.rpn_head.conv.weight':
        'offline_rpn.bbox_head.rpn_conv.weight',
    'offline_proposal_generator.rpn_head.objectness_logits.bias':
        'offline_rpn.bbox_head.rpn_cls.bias',
    'offline_proposal_generator.rpn_head.anchor_deltas.weight':
        'offline_rpn.bbox_head.rpn_reg.weight',
}


def clip_visual() -> ModifiedResNet:
    return ModifiedResNet(layers=[1, 1, 1, 1], output_dim=D, heads=2,
                          image_size=64, width=8)


def rpn_detector(layout: str = 'fpn') -> torch.nn.Module:
    """mmdet ``RPN`` with narrow ResNet-50 caffe stages (base 8 channels):
    ``fpn`` (R50-FPN), ``lsj`` (FPN with BN, 2 RPN convs) or ``c4``."""
    register_all_modules()
    bn = dict(type='BN', requires_grad=False)
    backbone = dict(type='ResNet', depth=50, style='caffe', base_channels=8,
                    stem_channels=8, norm_cfg=bn)
    anchors = dict(type='AnchorGenerator', scales=[8],
                   ratios=[0.5, 1.0, 2.0], strides=[4, 8, 16, 32, 64])
    head = dict(type='RPNHead', in_channels=16, feat_channels=16,
                anchor_generator=anchors)
    neck = dict(type='FPN', in_channels=[32, 64, 128, 256], out_channels=16,
                num_outs=5)
    if layout == 'lsj':
        neck['norm_cfg'] = dict(type='BN')
        head['num_convs'] = 2
    if layout == 'c4':
        backbone.update(num_stages=3, strides=(1, 2, 2), dilations=(1, 1, 1),
                        out_indices=(2, ))
        neck = None
        head.update(in_channels=128, feat_channels=128, anchor_generator=dict(
            type='AnchorGenerator', scales=[2, 4, 8, 16, 32],
            ratios=[0.5, 1.0, 2.0], strides=[16], scale_major=False))
    return MODELS.build(dict(
        type='RPN', backbone=backbone, neck=neck, rpn_head=head,
        train_cfg=None, test_cfg=dict(rpn=dict(
            nms_pre=10, max_per_img=10, min_bbox_size=0,
            nms=dict(type='nms', iou_threshold=0.7)))))


def detectron2_name(key: str, fpn: bool) -> str:
    """Official name of an mmdet RPN-detector key (detectron2 modules:
    ``stem.conv1[.norm]``, ``res{s}.{i}.conv{k}[.norm]``, ``shortcut[.norm]``,
    ``fpn_lateral{s}`` / ``fpn_output{s}[.norm]``, ``rpn_head.conv``,
    ``objectness_logits``, ``anchor_deltas``)."""
    bb = 'offline_backbone.bottom_up.' if fpn else 'offline_backbone.'
    rpn = 'offline_proposal_generator.rpn_head.'
    subs = [
        (r'backbone\.conv1\.weight', bb + 'stem.conv1.weight'),
        (rf'backbone\.bn1\.{BN_LEAF}', bb + r'stem.conv1.norm.\1'),
        (r'backbone\.layer(\d)\.(\d+)\.conv(\d)\.weight',
         lambda m: f'{bb}res{int(m[1]) + 1}.{m[2]}.conv{m[3]}.weight'),
        (rf'backbone\.layer(\d)\.(\d+)\.bn(\d)\.{BN_LEAF}',
         lambda m: f'{bb}res{int(m[1]) + 1}.{m[2]}.conv{m[3]}.norm.{m[4]}'),
        (r'backbone\.layer(\d)\.(\d+)\.downsample\.0\.weight',
         lambda m: f'{bb}res{int(m[1]) + 1}.{m[2]}.shortcut.weight'),
        (rf'backbone\.layer(\d)\.(\d+)\.downsample\.1\.{BN_LEAF}',
         lambda m: f'{bb}res{int(m[1]) + 1}.{m[2]}.shortcut.norm.{m[3]}'),
        (r'neck\.lateral_convs\.(\d)\.conv\.(weight|bias)',
         lambda m: f'offline_backbone.fpn_lateral{int(m[1]) + 2}.{m[2]}'),
        (r'neck\.fpn_convs\.(\d)\.conv\.(weight|bias)',
         lambda m: f'offline_backbone.fpn_output{int(m[1]) + 2}.{m[2]}'),
        (rf'neck\.lateral_convs\.(\d)\.bn\.{BN_LEAF}',
         lambda m: f'offline_backbone.fpn_lateral{int(m[1]) + 2}.norm.{m[2]}'),
        (rf'neck\.fpn_convs\.(\d)\.bn\.{BN_LEAF}',
         lambda m: f'offline_backbone.fpn_output{int(m[1]) + 2}.norm.{m[2]}'),
        (r'bbox_head\.rpn_conv\.(weight|bias)', rpn + r'conv.\1'),
        (r'bbox_head\.rpn_conv\.(\d)\.conv\.(weight|bias)',
         rpn + r'conv.conv\1.\2'),
        (r'bbox_head\.rpn_cls\.(weight|bias)', rpn + r'objectness_logits.\1'),
        (r'bbox_head\.rpn_reg\.(weight|bias)', rpn + r'anchor_deltas.\1'),
    ]
    for pattern, repl in subs:
        if re.fullmatch(pattern, key):
            return re.sub(pattern, repl, key)
    raise AssertionError(f'no detectron2 name for {key}')


def forge(layout: str = 'fpn', seed: int = 0):
    """(official state dict, target key -> source key, visual, rpn)."""
    gen = torch.Generator().manual_seed(seed)
    visual, rpn = clip_visual(), rpn_detector(layout)

    def rand(shape):
        return torch.randn(tuple(shape), generator=gen)

    src, expected = {}, {}
    for k, v in visual.state_dict().items():
        if k.endswith('num_batches_tracked'):   # FrozenBN has no counter
            continue
        src['backbone.' + k] = rand(v.shape)
        dst = ('roi_head.shared_head.' if k.startswith(HEAD) else
               'backbone.') + k
        expected[dst] = 'backbone.' + k
    for leaf, shape in (('weight', (4, D)), ('bias', (4, ))):
        src[f'roi_heads.box_predictor.bbox_pred.{leaf}'] = rand(shape)
        expected[f'roi_head.bbox_head.fc_reg.{leaf}'] = \
            f'roi_heads.box_predictor.bbox_pred.{leaf}'
    src[CLS_SCORE] = rand((5, D))
    src[CLS_BG_SCORE] = torch.zeros(1, D)
    for k, v in rpn.state_dict().items():
        # the LSJ RPN uses SyncBN, which keeps its counters
        if k.endswith('num_batches_tracked') and layout != 'lsj':
            continue
        name = detectron2_name(k, fpn=layout != 'c4')
        src[name] = (torch.full_like(v, 7) if v.ndim == 0 else rand(v.shape))
        expected['offline_rpn.' + k] = name
    src['teacher_backbone.conv1.weight'] = rand((4, 3, 3, 3))
    src['lang_encoder.token_embedding.weight'] = rand((10, D))
    return src, expected, visual, rpn


def target_keys(visual, rpn) -> set[str]:
    """Keys of our detector's parts, from the real modules."""
    keys = {('roi_head.shared_head.' if k.startswith(HEAD) else 'backbone.')
            + k for k in visual.state_dict()}
    keys |= {'roi_head.bbox_head.fc_reg.weight',
             'roi_head.bbox_head.fc_reg.bias'}
    return keys | {'offline_rpn.' + k for k in rpn.state_dict()}


@pytest.mark.parametrize('layout', ['fpn', 'lsj', 'c4'])
def test_converted_keys_equal_the_real_modules(layout):
    src, expected, visual, rpn = forge(layout)
    conv = convert_regionclip(src, 'rc.pth')
    out, report = conv.state_dict, conv.report
    assert set(out) == target_keys(visual, rpn)
    for dst, key in expected.items():
        assert out[dst] is src[key] and out[dst].shape == src[key].shape
    assert len(set(expected.values())) == len(expected)
    added = set(out) - set(expected)
    assert added == set(report.added)
    assert added and all(k.endswith('num_batches_tracked') for k in added)
    assert all(out[k].dtype == torch.long and int(out[k]) == 0
               for k in added)
    if layout == 'lsj':     # counters in the source are kept
        k = 'offline_rpn.neck.fpn_convs.0.bn.num_batches_tracked'
        assert k not in added and int(out[k]) == 7
    # strict loads into the real modules
    clip = {k.split('.', 1)[1] if k.startswith('backbone.') else
            k[len('roi_head.shared_head.'):]: v for k, v in out.items()
            if k.startswith(('backbone.', 'roi_head.shared_head.'))}
    clip_visual().load_state_dict(clip, strict=True)
    rpn.load_state_dict({k[len('offline_rpn.'):]: v for k, v in out.items()
                         if k.startswith('offline_rpn.')}, strict=True)
    n_clip = sum(not k.endswith('num_batches_tracked')
                 for k in visual.state_dict())
    n_head = sum(k.startswith(HEAD) and not k.endswith('num_batches_tracked')
                 for k in visual.state_dict())
    assert report.converted['backbone'] == n_clip - n_head
    assert report.converted['roi_head.shared_head'] == n_head
    assert report.converted['roi_head.bbox_head'] == 2
    assert sum(report.converted.values()) == len(expected)
    assert report.unmatched == [] and report.warnings == []
    dropped = {k for keys in report.dropped.values() for k in keys}
    assert dropped == {CLS_SCORE, CLS_BG_SCORE,
                       'teacher_backbone.conv1.weight',
                       'lang_encoder.token_embedding.weight'}
    assert torch.equal(conv.classifier, src[CLS_SCORE])
    notes = ' '.join(report.notes)
    if layout == 'c4':
        assert 'R50-C4' in notes and 'scale_major=False' in notes
        assert '15 anchors' in notes
    else:
        assert 'R50-FPN' in notes and '[32, 64, 128, 256]' in notes
    assert ('num_convs=2' in notes) == (layout == 'lsj')
    assert ('norm_cfg' in notes) == (layout == 'lsj')


def test_pinned_official_names():
    src, expected, _, _ = forge('fpn')
    out = convert_regionclip(src).state_dict
    for official, ours in PINNED.items():
        assert official in src, official
        assert out[ours] is src[official]


def test_unmatched_keys_are_an_error_naming_file_and_key():
    src, _, _, _ = forge('fpn')
    src['roi_heads.box_head.fc1.weight'] = torch.zeros(8, 8)
    src['backbone.bottom_up.res2.0.conv1.weight'] = torch.zeros(8, 8, 1, 1)
    with pytest.raises(ValueError, match=r'rc\.pth: 2 keys .*'
                       r'roi_heads\.box_head\.fc1\.weight'):
        convert_regionclip(src, 'rc.pth')
    conv = convert_regionclip(src, 'rc.pth', allow_unmatched=True)
    assert conv.report.unmatched == ['roi_heads.box_head.fc1.weight',
                                     'backbone.bottom_up.res2.0.conv1.weight']
    assert 'UNMATCHED 2' in conv.report.format()
    assert not any('fc1' in k or 'bottom_up' in k for k in conv.state_dict)


@pytest.mark.parametrize('key,shape,expected', [
    ('roi_heads.box_predictor.bbox_pred.weight', (8, D), r'\[4, 32\]'),
    ('roi_heads.box_predictor.bbox_pred.weight', (4, D + 1), r'\[4, 32\]'),
    ('roi_heads.box_predictor.bbox_pred.bias', (8, ), r'\[4\]'),
    (CLS_SCORE, (5, D + 1), r'\[C, 32\]'),
    (CLS_BG_SCORE, (2, D), r'\[1, 32\]'),
    ('offline_proposal_generator.rpn_head.anchor_deltas.weight',
     (13, 16, 1, 1), '12 output channels'),
    ('offline_backbone.bottom_up.res2.0.conv1.weight', (8, 8), '4-D'),
    ('offline_backbone.bottom_up.res2.0.conv1.norm.weight', (8, 1), '1-D'),
])
def test_wrong_shapes_are_an_error_naming_the_key(key, shape, expected):
    src, _, _, _ = forge('fpn')
    src[key] = torch.zeros(shape)
    shape_re = re.escape(str(shape))
    with pytest.raises(ValueError, match=rf'rc\.pth: {re.escape(key)} has '
                       rf'shape {shape_re}, expected .*{expected}'):
        convert_regionclip(src, 'rc.pth')


def test_nonzero_background_embedding_warns():
    src, _, _, _ = forge('fpn')
    src[CLS_BG_SCORE] = torch.full((1, D), 0.5)
    report = convert_regionclip(src).report
    assert len(report.warnings) == 1 and CLS_BG_SCORE in report.warnings[0]
    assert '0.5' in report.warnings[0]


def test_classifier_rows_are_unit_float32():
    w = torch.tensor([[3., 4.], [0., -2.], [1., 1.]], dtype=torch.float64)
    rows = classifier_rows(w)
    assert rows.dtype == np.float32
    np.testing.assert_allclose(rows, [[.6, .8], [0., -1.],
                                      [2 ** -.5, 2 ** -.5]], rtol=1e-6)


def test_extract_state_dict_accepts_the_three_forms():
    sd = {'a.weight': torch.ones(2), 'b': np.zeros(3, np.float32)}
    for obj in ({'model': sd, 'iteration': 3}, {'state_dict': sd}, sd,
                {'module.' + k: v for k, v in sd.items()}):
        out = extract_state_dict(obj, 'x.pth')
        assert list(out) == ['a.weight', 'b']
        assert torch.equal(out['b'], torch.zeros(3))
    with pytest.raises(ValueError, match=r'x\.pth: no state dict'):
        extract_state_dict([1, 2], 'x.pth')
    with pytest.raises(ValueError, match=r'x\.pth: not a state dict.*iter'):
        extract_state_dict({'w': torch.ones(1), 'iter': 3}, 'x.pth')


def load_tool():
    spec = importlib.util.spec_from_file_location('regionclip_to_mmdet', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_converts_and_saves_classifier(tmp_path):
    src, expected, _, _ = forge('fpn', seed=1)
    ckpt, dst, npy = (str(tmp_path / n) for n in ('rc.pth', 'out.pth',
                                                  'cls.npy'))
    torch.save({'model': src, 'iteration': 90000}, ckpt)
    proc = subprocess.run(
        [sys.executable, TOOL, ckpt, dst, '--save-classifier', npy],
        capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert f'from {ckpt}:' in proc.stdout and f'wrote {dst}' in proc.stdout
    assert 'offline_rpn.neck: 16' in proc.stdout
    assert 'dropped 1 (pretraining teacher' in proc.stdout
    saved = torch.load(dst, map_location='cpu', weights_only=True)
    assert saved['meta']['converted_from'] == ckpt
    assert saved['meta']['report']['unmatched'] == []
    out = saved['state_dict']
    for dst_key, key in expected.items():
        assert torch.equal(out[dst_key], src[key])
    rows = np.load(npy)
    assert rows.dtype == np.float32 and rows.shape == (5, D)
    np.testing.assert_allclose(np.linalg.norm(rows, axis=1), 1, rtol=1e-6)
    np.testing.assert_allclose(rows, classifier_rows(src[CLS_SCORE]))


def test_cli_unmatched_error_and_allow_unmatched(tmp_path, capsys):
    tool = load_tool()
    src, _, _, _ = forge('fpn')
    src['roi_heads.box_head.fc1.weight'] = torch.zeros(8, 8)
    ckpt, dst = str(tmp_path / 'rc.pth'), str(tmp_path / 'out.pth')
    torch.save(src, ckpt)
    with pytest.raises(SystemExit, match=rf'error: {re.escape(ckpt)}: 1 keys'
                       r'.*roi_heads\.box_head\.fc1\.weight'):
        tool.main([ckpt, dst])
    assert not osp.exists(dst)
    assert tool.main([ckpt, dst, '--allow-unmatched']) == 0
    assert 'UNMATCHED 1' in capsys.readouterr().out
    meta = torch.load(dst, weights_only=True)['meta']
    assert meta['report']['unmatched'] == ['roi_heads.box_head.fc1.weight']
    del src[CLS_SCORE]
    torch.save(src, ckpt)
    with pytest.raises(SystemExit, match=r'rc\.pth: no roi_heads\.box_'
                       r'predictor\.cls_score\.weight to save'):
        tool.main([ckpt, dst, '--allow-unmatched', '--save-classifier',
                   str(tmp_path / 'c.npy')])
    with pytest.raises(SystemExit, match='checkpoint not found'):
        tool.main([str(tmp_path / 'missing.pth'), dst])


def test_keys_load_into_the_ovd_ext_clip_modules():
    """Backbone / shared-head keys load strictly into ovd_ext's C4 modules
    (skipped until they exist)."""
    backbones = pytest.importorskip('ovd_ext.models.backbones.clip_resnet')
    heads = pytest.importorskip('ovd_ext.models.roi_heads.clip_res5_head')
    clip = dict(name='ovd-tiny-rn', checkpoint=None)
    backbone = backbones.CLIPResNet(clip=clip)
    head = heads.CLIPResLayer4Head(clip=clip)
    src = {'backbone.' + k: torch.randn(v.shape) for part in (backbone, head)
           for k, v in part.state_dict().items()
           if not k.endswith('num_batches_tracked')}
    out = convert_regionclip(src).state_dict
    backbone.load_state_dict({k[len('backbone.'):]: v for k, v in out.items()
                              if k.startswith('backbone.')}, strict=True)
    head.load_state_dict({k[len('roi_head.shared_head.'):]: v
                          for k, v in out.items()
                          if k.startswith('roi_head.shared_head.')},
                         strict=True)
