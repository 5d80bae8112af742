"""The ``pseudo_labels`` stage kind on an SSOD unlabeled split: the labeled
images' json has no annotations, so ``quality_ann_file`` (the full training
json) is the ground truth the pseudo labels are scored against."""
from __future__ import annotations

import json
import math
import os.path as osp

import pytest

from ovd_ext.apis import stage_kinds  # noqa: F401  (registers the kinds)
from ovd_ext.apis.stages import STAGE_KINDS, Stage, StageContext
from ovd_ext.pseudo_labels.vl_plm import ssod_split
from ovd_ext.testing import make_shapes

PERCENT = 34            # 2 of the 6 training images labeled, 4 unlabeled


@pytest.fixture(scope='module')
def ssod(tmp_path_factory):
    """A 6-image OVD-Shapes, its unlabeled split, the full train json, a
    teacher file (the unlabeled images' ground truth as COCO results with
    score 0.95) and a teacher-only labeler config over the split."""
    tmp = tmp_path_factory.mktemp('ssod')
    root = make_shapes(str(tmp / 'shapes'), num_train=6, num_val=1)
    full = osp.join(root, 'annotations', 'instances_train.json')
    with open(full) as f:
        coco = json.load(f)
    lab, unl = ssod_split(coco, PERCENT, seed=1)
    assert len(lab['images']) == 2 and len(unl['images']) == 4
    unl_path = tmp / 'instances_train.1@34-unlabeled.json'
    unl_path.write_text(json.dumps(unl))
    unl_ids = {im['id'] for im in unl['images']}
    gt = [a for a in coco['annotations'] if a['image_id'] in unl_ids]
    assert gt and unl['annotations'] == []
    teacher = tmp / 'teacher.bbox.json'
    teacher.write_text(json.dumps([
        {'image_id': a['image_id'], 'category_id': a['category_id'],
         'bbox': a['bbox'], 'score': 0.95} for a in gt]))
    cfg = tmp / 'supervised-pls.py'
    cfg.write_text(
        "pseudo_labeler = dict(type='VLPLMLabeler', teacher_only=True, "
        "teacher='no-such-teacher.json', targets='all', tau=0.8)\n"
        f"pseudo_label_io = dict(ann_file='{unl_path}', "
        f"img_dir='{root}/images/')\n"
        "pseudo_label_run = dict(workers=1)\n")
    return {'root': root, 'full': full, 'coco': coco, 'unl': unl, 'gt': gt,
            'teacher': str(teacher), 'config': str(cfg),
            'work': tmp / 'work'}


def _stage(ssod, name: str, teacher: str, **options) -> Stage:
    return Stage(name, 'pseudo_labels', ssod['config'],
                 dict({'labeler_options': {'teacher': teacher},
                       'output': f'{name}.json'}, **options))


def _run(ssod, stage: Stage) -> dict:
    ctx = StageContext(str(ssod['work']), progress=False)
    return STAGE_KINDS.get('pseudo_labels')(stage, ctx)


def _gt_per_image(gt: list[dict]) -> float:
    return len(gt) / len({a['image_id'] for a in gt})


def test_teacher_ground_truth_scores_100_against_the_full_json(ssod):
    assert STAGE_KINDS.get('pseudo_labels') is stage_kinds.pseudo_label_stage
    out = _run(ssod, _stage(ssod, 'pls', ssod['teacher'],
                            quality_ann_file=ssod['full']))
    with open(out['file']) as f:
        labels = json.load(f)
    # the labeler ran over the unlabeled split only
    assert sorted(im['id'] for im in labels['images']) == \
        sorted(im['id'] for im in ssod['unl']['images'])
    assert len(labels['annotations']) == len(ssod['gt'])
    assert {round(a['score'], 5) for a in labels['annotations']} == {0.95}
    m = out['metrics']
    assert m['AP@PL'] == pytest.approx(100.0, abs=1e-6)
    # per image with ground truth, over the unlabeled images only: the
    # labeled images' ground truth in the full json is not counted
    assert m['#@PL'] == pytest.approx(_gt_per_image(ssod['gt']))
    present = {c['name'] for c in ssod['coco']['categories']
               if c['id'] in {a['category_id'] for a in ssod['gt']}}
    assert {k for k, v in m['per_class_AP50'].items()
            if not math.isnan(v)} == present
    assert all(m['per_class_AP50'][k] == pytest.approx(100.0)
               for k in present)
    # the metrics are those written to the stage's quality.json
    with open(osp.join(out['work_dir'], 'quality.json')) as f:
        assert json.load(f)['AP@PL'] == m['AP@PL']


def test_a_missed_box_lowers_the_score(ssod, tmp_path):
    """The scoring is real: drop the teacher's only box of one class in one
    image and that class's AP50 falls below 100."""
    gt = ssod['gt']
    counts = {}
    for a in gt:
        counts[a['category_id']] = counts.get(a['category_id'], 0) + 1
    victim = gt[0]
    teacher = tmp_path / 'teacher-missing.json'
    teacher.write_text(json.dumps([
        {'image_id': a['image_id'], 'category_id': a['category_id'],
         'bbox': a['bbox'], 'score': 0.95} for a in gt[1:]]))
    out = _run(ssod, _stage(ssod, 'pls-missing', str(teacher),
                            quality_ann_file=ssod['full']))
    m = out['metrics']
    name = next(c['name'] for c in ssod['coco']['categories']
                if c['id'] == victim['category_id'])
    n = counts[victim['category_id']]
    # one of n boxes missed: recall (n-1)/n at precision 1 -> 101-point AP
    want = 100.0 * sum(i / 100 <= (n - 1) / n for i in range(101)) / 101
    if n == 1:
        assert m['per_class_AP50'][name] == pytest.approx(0.0)
    else:
        assert m['per_class_AP50'][name] == pytest.approx(want, abs=1.0)
        assert m['per_class_AP50'][name] < 100.0
    assert m['AP@PL'] < 100.0
    # the image of the missed box still counts: #@PL drops by 1 / images
    n_images = len({a['image_id'] for a in gt})
    assert m['#@PL'] == pytest.approx((len(gt) - 1) / n_images)


def test_without_quality_ann_file_the_split_cannot_score(ssod):
    """The unlabeled split has no annotations: scored against it the stage
    would report AP@PL NaN for perfect pseudo labels, so it stops and says
    to name quality_ann_file; the labels it wrote are kept."""
    with pytest.raises(ValueError, match='no ground truth.*quality_ann_file'):
        _run(ssod, _stage(ssod, 'pls-no-quality', ssod['teacher']))
