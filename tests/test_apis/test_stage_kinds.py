"""The registered stage kinds on real configs (tiny data, random weights)."""
from __future__ import annotations

import json
import os.path as osp

from ovd_ext.apis import stage_kinds  # noqa: F401  (registers the kinds)
from ovd_ext.apis.stages import Stage, StageContext
from ovd_ext.testing import make_shapes

STUDENT = 'configs/vl_plm/mask-rcnn_r18-narrow_fpn_clip-head_vl-plm_ovd-shapes.py'


def _student_config(tmp_path, root: str) -> str:
    """The OVD-Shapes VL-PLM student config on a 3-image set, with a random
    proposal generator and CLIP and a low tau (random models score ~0.5)."""
    path = tmp_path / 'student.py'
    path.write_text(
        f"_base_ = '{osp.abspath(STUDENT)}'\n"
        f"train_dataloader = dict(dataset=dict(data_root='{root}/'))\n"
        "pseudo_labeler = dict(random_weights=('proposal', 'clip'), "
        "vocabulary=None, "
        "tau=0.3, topk=20, refine_iters=2)\n"
        "pseudo_label_run = dict(workers=1)\n")
    return str(path)


def test_pseudo_label_stage_writes_labels_and_quality(tmp_path):
    root = make_shapes(str(tmp_path / 'shapes'))
    stage = Stage('pls', 'pseudo_labels', _student_config(tmp_path, root),
                  {'labeler_options': {'proposal_checkpoint':
                                       '{gen.checkpoint}'},
                   'output': 'pl.json'})
    ctx = StageContext(str(tmp_path / 'work'), progress=False,
                       outputs={'gen': {'checkpoint': None}})
    out = stage_kinds.pseudo_label_stage(stage, ctx)
    assert out['file'] == str(tmp_path / 'work' / 'pls' / 'pl.json')
    with open(out['file']) as f:
        labels = json.load(f)
    with open(osp.join(root, 'annotations', 'instances_train.json')) as f:
        source = json.load(f)
    assert len(labels['images']) == len(source['images']) == 3
    novel = {c['id'] for c in source['categories']
             if c['name'] in ('star', 'ring', 'house', 'fish', 'mushroom')}
    assert {a['category_id'] for a in labels['annotations']} <= novel
    assert set(out['metrics']) >= {'AP@PL', '#@PL'}
    n_novel_images = len({a['image_id'] for a in source['annotations']
                          if a['category_id'] in novel})
    if n_novel_images:
        assert out['metrics']['#@PL'] == len(labels['annotations']) / \
            n_novel_images
    # a finished stage is not redone
    mtime = osp.getmtime(out['file'])
    assert stage_kinds.pseudo_label_stage(stage, ctx) == out
    assert osp.getmtime(out['file']) == mtime


RPN = 'configs/regionclip/rpn_r18-narrow_fpn_ovd-shapes-base.py'
DUMP = 'configs/regionclip/rpn_r18-narrow_fpn_ovd-shapes-base_dump-proposals.py'


def test_build_stage_saves_the_built_model_with_its_options(tmp_path):
    import torch
    stage = Stage('built', 'build', RPN,
                  {'cfg_options': {'model.rpn_head.feat_channels': 24}})
    ctx = StageContext(str(tmp_path / 'work'), progress=False)
    out = stage_kinds.build_stage(stage, ctx)
    assert out['checkpoint'] == str(tmp_path / 'work' / 'built' /
                                    'model.pth')
    assert out['model_options'] == {'model.rpn_head.feat_channels': 24}
    ckpt = torch.load(out['checkpoint'], map_location='cpu',
                      weights_only=True)
    assert ckpt['meta']['config'] == RPN
    # the option shaped the model: 24 feature channels in the RPN conv
    assert ckpt['state_dict']['bbox_head.rpn_conv.weight'].shape[0] == 24
    # an existing checkpoint is kept, not rebuilt
    mtime = osp.getmtime(out['checkpoint'])
    assert stage_kinds.build_stage(stage, ctx)['checkpoint'] == \
        out['checkpoint']
    assert osp.getmtime(out['checkpoint']) == mtime


def test_test_stage_dumps_proposals_into_its_stage_dir(tmp_path):
    import pickle
    root = make_shapes(str(tmp_path / 'shapes'), num_train=2)
    ctx = StageContext(str(tmp_path / 'work'), progress=False)
    built = stage_kinds.build_stage(Stage('rpn', 'build', RPN, {}), ctx)
    ctx.outputs['rpn'] = built
    stage = Stage('proposals', 'test', DUMP, {
        'checkpoint': '{rpn.checkpoint}',
        'cfg_options': {'test_evaluator.output_dir': '{stage_dir}',
                        'test_dataloader.dataset.data_root': root + '/',
                        'test_dataloader.num_workers': 0},
        'files': {'file': '{stage_dir}/proposals_train.pkl'}})
    out = stage_kinds.test_stage(stage, ctx)
    assert out['file'] == str(tmp_path / 'work' / 'proposals' /
                              'proposals_train.pkl')
    with open(out['file'], 'rb') as f:
        proposals = pickle.load(f)
    assert len(proposals) == 2                   # one entry per image
    for entry in proposals.values():
        assert 0 < len(entry['bboxes']) <= 300
    # a declared file the test does not write is an error naming it
    stage.options['files'] = {'file': '{stage_dir}/other.pkl'}
    import pytest
    with pytest.raises(FileNotFoundError, match='other.pkl'):
        stage_kinds.test_stage(stage, ctx)


def test_tool_stage_runs_the_script_once_and_checks_its_files(tmp_path):
    import pytest
    script = tmp_path / 'write.py'
    script.write_text('import sys\nopen(sys.argv[1], "w").write(sys.argv[2])\n'
                      'open(sys.argv[1] + ".runs", "a").write("x")\n')
    ctx = StageContext(str(tmp_path / 'work'), progress=False,
                       outputs={'prev': {'word': 'hello'}})
    stage = Stage('tool', 'tool', RPN, {
        'script': str(script), 'args': ['{stage_dir}/out.txt', '{prev.word}'],
        'files': {'file': '{stage_dir}/out.txt'}})
    out = stage_kinds.tool_stage(stage, ctx)
    path = tmp_path / 'work' / 'tool' / 'out.txt'
    assert out['file'] == str(path) and path.read_text() == 'hello'
    stage_kinds.tool_stage(stage, ctx)           # files exist: not rerun
    assert (tmp_path / 'work' / 'tool' / 'out.txt.runs').read_text() == 'x'
    bad = Stage('bad', 'tool', RPN, {
        'script': str(script), 'args': ['{stage_dir}/a.txt', 'x'],
        'files': {'file': '{stage_dir}/b.txt'}})
    with pytest.raises(FileNotFoundError, match='b.txt'):
        stage_kinds.tool_stage(bad, ctx)
