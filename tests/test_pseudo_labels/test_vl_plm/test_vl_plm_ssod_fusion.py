"""SSOD fusion with provenance: which kept pseudo labels came from the
teacher (supplement B.1), and the ``source`` field of their records."""
import pytest
import torch

from ovd_ext.pseudo_labels.vl_plm import (Detections, detections_to_records,
                                          fuse_and_select)


def _dets(rows):
    t = torch.tensor(rows, dtype=torch.float)
    return Detections(t[:, :4], t[:, 4], t[:, 5].long())


OURS = [[0, 0, 10, 10, 0.82, 0],       # A: loses to teacher A'
        [50, 50, 70, 70, 0.90, 1],     # D: beats teacher C
        [100, 0, 120, 20, 0.85, 0],    # E: alone, kept
        [200, 0, 220, 20, 0.50, 1]]    # G: below tau
TEACHER = [[0, 0, 10, 9, 0.95, 0],     # A': IoU .9 with A, wins
           [30, 30, 40, 40, 0.70, 1],  # B: below tau
           [50, 50, 70, 69, 0.85, 1],  # C: IoU .95 with D, loses
           [50, 50, 70, 70, 0.99, 0],  # F: same box as D, other class: kept
           [300, 0, 330, 40, 0.87, 2]]  # H: alone, kept


def _key(box, score, label):
    return (tuple(round(v, 2) for v in box), round(score, 4), int(label))


def test_with_source_marks_exactly_the_kept_teacher_boxes():
    ours, teacher = _dets(OURS), _dets(TEACHER)
    out, from_teacher = fuse_and_select(ours, teacher, tau=0.8, nms_iou=0.6,
                                        with_source=True)
    assert isinstance(out, Detections)
    assert from_teacher.dtype == torch.bool
    assert from_teacher.shape == (len(out),) == (5,)
    got = {_key(b, s, l): t for b, s, l, t in zip(
        out.boxes.tolist(), out.scores.tolist(), out.labels.tolist(),
        from_teacher.tolist())}
    assert got == {_key([0, 0, 10, 9], 0.95, 0): True,        # A'
                   _key([50, 50, 70, 70], 0.99, 0): True,     # F
                   _key([300, 0, 330, 40], 0.87, 2): True,    # H
                   _key([50, 50, 70, 70], 0.90, 1): False,    # D
                   _key([100, 0, 120, 20], 0.85, 0): False}   # E
    # sorted by descending score; the flags follow the same order
    assert out.scores.tolist() == sorted(out.scores.tolist(), reverse=True)
    assert from_teacher.tolist() == [True, True, False, True, False]


def test_every_kept_box_keeps_its_own_sources_score_exactly():
    ours, teacher = _dets(OURS), _dets(TEACHER)
    out, from_teacher = fuse_and_select(ours, teacher, 0.8, 0.6,
                                        with_source=True)
    for box, score, label, t in zip(out.boxes, out.scores, out.labels,
                                    from_teacher.tolist()):
        src = teacher if t else ours
        hit = [i for i in range(len(src))
               if torch.equal(src.boxes[i], box)
               and int(src.labels[i]) == int(label)]
        assert len(hit) == 1, (box.tolist(), t)
        # bit-identical: no re-scoring, no averaging with the other source
        assert src.scores[hit[0]].item() == score.item()


def test_teacher_tau_and_source_flags():
    ours, teacher = _dets(OURS), _dets(TEACHER)
    # a lower teacher threshold admits B (0.70), a teacher box
    out, from_teacher = fuse_and_select(ours, teacher, 0.8, 0.6,
                                        teacher_tau=0.6, with_source=True)
    scores = [round(s, 2) for s in out.scores.tolist()]
    assert scores.count(0.7) == 1
    assert from_teacher[scores.index(0.7)].item() is True
    assert int(from_teacher.sum()) == 4
    # a teacher threshold above every teacher score: VL-PLM's boxes only
    out, from_teacher = fuse_and_select(ours, teacher, 0.8, 0.6,
                                        teacher_tau=1.0, with_source=True)
    assert not from_teacher.any()
    assert sorted(round(s, 2) for s in out.scores.tolist()) == \
        [0.82, 0.85, 0.9]


def test_with_source_edge_cases():
    ours, teacher = _dets(OURS), _dets(TEACHER)
    # no teacher: nothing is from the teacher
    out, from_teacher = fuse_and_select(ours, None, 0.8, 0.6,
                                        with_source=True)
    assert len(out) == 3 and from_teacher.tolist() == [False] * 3
    # teacher only: everything kept is from the teacher
    out, from_teacher = fuse_and_select(Detections.empty(), teacher, 0.8,
                                        0.6, with_source=True)
    assert len(out) == 4 and from_teacher.tolist() == [True] * 4
    # nothing at all: empty labels and an empty bool tensor
    out, from_teacher = fuse_and_select(Detections.empty(), None, 0.8, 0.6,
                                        with_source=True)
    assert len(out) == 0
    assert from_teacher.dtype == torch.bool and from_teacher.numel() == 0


def test_without_source_the_return_type_is_unchanged():
    ours, teacher = _dets(OURS), _dets(TEACHER)
    plain = fuse_and_select(ours, teacher, 0.8, 0.6)
    assert type(plain) is Detections and len(plain) == 5
    with_src, _ = fuse_and_select(ours, teacher, 0.8, 0.6, with_source=True)
    for a, b in zip(plain, with_src):
        assert torch.equal(a, b)
    empty = fuse_and_select(Detections.empty(), None, 0.8, 0.6)
    assert type(empty) is Detections and len(empty) == 0


def test_records_name_their_source_only_when_given():
    ours, teacher = _dets(OURS), _dets(TEACHER)
    out, from_teacher = fuse_and_select(ours, teacher, 0.8, 0.6,
                                        with_source=True)
    cat_ids = [11, 22, 33]
    rows = detections_to_records(out, cat_ids, from_teacher=from_teacher)
    assert [r['source'] for r in rows] == [
        'teacher', 'teacher', 'vl-plm', 'teacher', 'vl-plm']
    assert [r['score'] for r in rows] == pytest.approx(
        [0.99, 0.95, 0.90, 0.87, 0.85])
    assert rows[0] == {'bbox': [50.0, 50.0, 20.0, 20.0], 'category_id': 11,
                       'score': pytest.approx(0.99), 'source': 'teacher'}
    assert rows[3]['category_id'] == 33
    assert rows[3]['bbox'] == [300.0, 0.0, 30.0, 40.0]
    plain = detections_to_records(out, cat_ids)
    assert all('source' not in r for r in plain)
    assert [{k: v for k, v in r.items() if k != 'source'} for r in rows] == \
        plain
    assert detections_to_records(Detections.empty(), cat_ids,
                                 from_teacher=torch.zeros(0, dtype=torch.bool)
                                 ) == []


def test_generator_result_carries_the_flags(monkeypatch):
    """``VLPLM.__call__`` fuses its scored regions with the teacher and puts
    the per-label flags in ``ImageResult.from_teacher``."""
    from ovd_ext.pseudo_labels.vl_plm import VLPLM, VLPLMSettings
    gen = object.__new__(VLPLM)             # no detector / CLIP needed
    gen.settings = VLPLMSettings(tau=0.8, nms_iou=0.6)
    monkeypatch.setattr(gen, 'regions', lambda image: 'props')
    monkeypatch.setattr(gen, 'score', lambda image, props: (_dets(OURS), 2))
    result = gen(None, _dets(TEACHER))
    assert result.num_dropped_extra == 2 and len(result.scored) == 4
    assert result.labels.scores.tolist() == pytest.approx(
        [0.99, 0.95, 0.90, 0.87, 0.85])
    assert result.from_teacher.tolist() == [True, True, False, True, False]
    alone = gen(None, None)
    assert alone.from_teacher.tolist() == [False, False, False]


class _FakeGenerator:
    def __init__(self, teacher_seen):
        self.teacher_seen = teacher_seen

    def __call__(self, image, teacher):
        from ovd_ext.pseudo_labels.vl_plm import ImageResult
        self.teacher_seen.append(teacher)
        labels, flags = fuse_and_select(_dets(OURS), teacher, 0.8, 0.6,
                                        with_source=True)
        return ImageResult(labels, from_teacher=flags)


def test_labeler_writes_source_only_with_a_teacher(shapes_root, proposal_cfg):
    import os.path as osp

    from ovd_ext.pseudo_labels.vl_plm import VLPLMLabeler
    ann = osp.join(shapes_root, 'annotations', 'instances_train.json')
    common = dict(ann_file=ann, proposal_config=proposal_cfg,
                  clip=dict(name='ovd-tiny-vit'), targets='all',
                  random_weights=('proposal', 'clip'))
    seen = []
    lab = VLPLMLabeler(teacher='teacher.json', **common)
    lab.generator = _FakeGenerator(seen)
    lab.teacher_dets = {7: _dets(TEACHER)}
    rows = lab({'id': 7}, None)
    assert len(seen[-1]) == 5                   # image 7's teacher boxes
    assert [r['source'] for r in rows] == [
        'teacher', 'teacher', 'vl-plm', 'teacher', 'vl-plm']
    assert [r['category_id'] for r in rows] == [
        lab.cat_ids[i] for i in (0, 0, 1, 2, 0)]
    # an image the teacher has no boxes for: all VL-PLM's, still named
    rows = lab({'id': 8}, None)
    assert seen[-1] is None
    assert [r['source'] for r in rows] == ['vl-plm'] * 3
    # no teacher configured: no source field at all
    plain = VLPLMLabeler(**common)
    plain.generator = _FakeGenerator(seen)
    rows = plain({'id': 7}, None)
    assert len(rows) == 3 and all('source' not in r for r in rows)
    # teacher only ("Supervised + PLs"): the teacher's labels, no source
    only = VLPLMLabeler(ann_file=ann, teacher='teacher.json',
                        teacher_only=True, targets='all')
    only.teacher_dets = {7: _dets(TEACHER)}
    rows = only({'id': 7}, None)
    assert [r['score'] for r in rows] == pytest.approx([0.99, 0.95, 0.87,
                                                        0.85])
    assert all('source' not in r for r in rows)
