"""XPM's OVD-Shapes stage declaration (configs/xpm/ovd-shapes.stages.yml)
and the pseudo_labels stage kind's ``quality_targets`` (XPMLabeler has no
``targets``): the labeler run is replaced by one that writes the novel
ground truth (boxes + RLE masks) as pseudo labels, so the quality numbers
are known."""
from __future__ import annotations

import json
import os
import os.path as osp

import pytest
import yaml

import ovd_ext.pseudo_labels as pseudo_labels
from ovd_ext.apis import stage_kinds
from ovd_ext.apis.stages import Stage, StageContext, load_declaration
from ovd_ext.testing import make_shapes

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
DECL = osp.join(ROOT, 'configs', 'xpm', 'ovd-shapes.stages.yml')
METAFILE = osp.join(ROOT, 'configs', 'xpm', 'metafile.yml')
STUDENT = 'configs/xpm/mask-rcnn_r18-narrow_fpn_xpm_ovd-shapes.py'
NOVEL = ['star', 'ring', 'house', 'fish', 'mushroom']
HEADLINE = 'mask-rcnn_r18-narrow_fpn_xpm-eta-calibrated_ovd-shapes'


@pytest.fixture(scope='module')
def decl():
    return load_declaration(DECL)


def test_stages_in_order(decl):
    assert decl.method == 'xpm'
    assert [s.name for s in decl.stages] == [
        'teacher', 'pseudo-labels', 'student-bce', 'student',
        'calibrate-eta', 'student-eta']
    assert [s.kind for s in decl.stages] == [
        'train', 'pseudo_labels', 'train', 'train', 'tool', 'train']
    for s in decl.stages:
        assert osp.isfile(osp.join(ROOT, s.config)), (s.name, s.config)
    pl = decl.stage('pseudo-labels')
    assert pl.config == STUDENT
    assert pl.options['quality_targets'] == NOVEL
    assert pl.options['labeler_options'] == {
        'teacher_checkpoint': '{teacher.checkpoint}'}
    tool = decl.stage('calibrate-eta')
    assert tool.options['script'] == 'tools/xpm/calibrate_eta.py'
    assert osp.isfile(osp.join(ROOT, tool.options['script']))
    assert tool.options['args'][:2] == [STUDENT, '{student.checkpoint}']
    assert tool.options['files'] == {'file': '{stage_dir}/eta.json'}
    # every student starts from the teacher and trains on the pseudo labels
    for name in ('student-bce', 'student', 'student-eta'):
        opts = decl.stage(name).options['cfg_options']
        assert opts['load_from'] == '{teacher.checkpoint}'
        assert opts['train_dataloader.dataset.datasets.1.ann_file'] == \
            '{pseudo-labels.file}'
    assert decl.stage('student-eta').options['cfg_options'][
        'model.roi_head.eta'] == '{calibrate-eta.file}'


def test_rows_name_metafile_models(decl):
    with open(METAFILE) as f:
        models = {m['Name']: m for m in yaml.safe_load(f)['Models']}
    rows = {r.model: r for r in decl.rows}
    assert HEADLINE in rows
    assert [r.model for r in decl.rows if r.headline] == [HEADLINE]
    assert len(decl.rows) == 4
    for r in decl.rows:
        assert r.model in models, r.model
        # the row's stage trains the metafile model's config
        cfg = decl.stage(r.stage).config
        assert models[r.model]['Config'] == cfg
        assert osp.basename(cfg) == r.model + '.py'
    assert rows[HEADLINE].stage == 'student-eta'
    # the tables' pseudo-label columns; mask quality is in quality.json
    assert rows[HEADLINE].extra_metrics == {'pseudo-labels': ['AP@PL', '#@PL']}


# ------------------------------------------------- pseudo_labels stage kind
@pytest.fixture
def shapes(tmp_path):
    return make_shapes(str(tmp_path / 'shapes'))


@pytest.fixture
def fake_labeler(monkeypatch):
    """``run_labeler`` writing the novel ground truth (box + RLE mask,
    score 0.9) as XPM-style pseudo labels; records its calls."""
    calls = []

    def run(labeler, ann_file, img_dir, out, progress=True, **kwargs):
        calls.append(dict(labeler=labeler, ann_file=ann_file,
                          img_dir=img_dir, out=out, kwargs=kwargs))
        with open(ann_file) as f:
            gt = json.load(f)
        novel = {c['id'] for c in gt['categories'] if c['name'] in NOVEL}
        anns = [dict(id=i + 1, image_id=a['image_id'],
                     category_id=a['category_id'], bbox=a['bbox'],
                     area=a['area'], segmentation=a['segmentation'],
                     score=0.9, iscrowd=0, pseudo=True,
                     word_id=a['category_id'] - 1,
                     caption_words=[a['category_id'] - 1])
                for i, a in enumerate(a for a in gt['annotations']
                                      if a['category_id'] in novel)]
        os.makedirs(osp.dirname(out), exist_ok=True)   # as run_labeler
        with open(out, 'w') as f:
            json.dump(dict(info=dict(format_version=1),
                           images=gt['images'],
                           categories=[dict(id=c['id'], name=c['name'])
                                       for c in gt['categories']],
                           annotations=anns), f)
        return {'counts': {'labeled': len(gt['images'])}}
    monkeypatch.setattr(pseudo_labels, 'run_labeler', run)
    return calls


def student_config(tmp_path, root: str) -> str:
    """The XPM student config labelling the tiny set (its labeler block,
    which names no ``targets``, is the shipped one)."""
    path = tmp_path / 'student.py'
    ann = osp.join(root, 'annotations', 'instances_train.json')
    path.write_text(
        f"_base_ = {osp.join(ROOT, STUDENT)!r}\n"
        f"pseudo_label_io = dict(ann_file={ann!r}, "
        f"img_dir={osp.join(root, 'images') + '/'!r}, out=None)\n"
        "pseudo_label_run = dict(workers=1)\n")
    return str(path)


def test_no_quality_targets_is_a_key_error(tmp_path, shapes, fake_labeler):
    stage = Stage('pls', 'pseudo_labels', student_config(tmp_path, shapes),
                  {'labeler_options': {'teacher_checkpoint': '{t.ckpt}'}})
    ctx = StageContext(str(tmp_path / 'work'), progress=False,
                       outputs={'t': {'ckpt': '/x/teacher.pth'}})
    with pytest.raises(KeyError, match='quality_targets'):
        stage_kinds.pseudo_label_stage(stage, ctx)
    # checked before labeling: a misdeclared stage fails before the long run
    assert fake_labeler == []
    assert not osp.exists(tmp_path / 'work' / 'pls' / 'quality.json')


def test_quality_targets_give_box_and_mask_quality(tmp_path, shapes,
                                                   fake_labeler):
    stage = Stage('pls', 'pseudo_labels', student_config(tmp_path, shapes),
                  {'labeler_options': {'teacher_checkpoint': None},
                   'quality_targets': NOVEL, 'output': 'xpm.json'})
    ctx = StageContext(str(tmp_path / 'work'), progress=False)
    out = stage_kinds.pseudo_label_stage(stage, ctx)
    work = tmp_path / 'work' / 'pls'
    assert out['file'] == str(work / 'xpm.json')
    assert fake_labeler[0]['out'] == str(work / 'xpm.json')
    with open(work / 'quality.json') as f:
        quality = json.load(f)
    assert quality == out['metrics']
    with open(osp.join(shapes, 'annotations', 'instances_train.json')) as f:
        gt = json.load(f)
    novel = {c['id'] for c in gt['categories'] if c['name'] in NOVEL}
    n_novel = sum(a['category_id'] in novel for a in gt['annotations'])
    n_images = len({a['image_id'] for a in gt['annotations']
                    if a['category_id'] in novel})
    assert n_novel > 0
    # the pseudo labels are the ground truth: perfect boxes and masks
    assert quality['AP@PL'] == pytest.approx(100.0)
    assert quality['mask AP@PL'] == pytest.approx(100.0)
    assert quality['mask mIoU@PL'] == pytest.approx(100.0)
    assert quality['#@PL'] == pytest.approx(n_novel / n_images)
    # every pseudo-labels metric the headline row shows is there
    decl = load_declaration(DECL)
    row = [r for r in decl.rows if r.headline][0]
    assert set(row.extra_metrics['pseudo-labels']) <= set(quality)
    # finished: not run again
    assert stage_kinds.pseudo_label_stage(stage, ctx) == out
    assert len(fake_labeler) == 1
