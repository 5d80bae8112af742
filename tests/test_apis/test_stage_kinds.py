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
