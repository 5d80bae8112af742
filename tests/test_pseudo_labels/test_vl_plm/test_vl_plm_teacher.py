"""SSOD: a teacher's pseudo labels merged with VL-PLM's before thresholding
and NMS (supplement B.1, Fig. 5)."""
import json

import pytest
import torch

from ovd_ext.pseudo_labels.vl_plm import (Detections, fuse_and_select,
                                          load_teacher_labels)


def test_load_teacher_results_list_and_coco_json(tmp_path):
    dets = [{'image_id': 1, 'category_id': 5, 'bbox': [10, 20, 30, 40],
             'score': 0.9},
            {'image_id': 1, 'category_id': 7, 'bbox': [0, 0, 5, 5],
             'score': 0.95},                            # not a target
            {'image_id': 2, 'category_id': 3, 'bbox': [1, 2, 3, 4],
             'score': 0.5}]
    path = tmp_path / 'dets.json'
    path.write_text(json.dumps(dets))
    out, counts = load_teacher_labels(str(path), {3: 0, 5: 1})
    assert counts == {'loaded': 2, 'not_target': 1}
    assert out[1].boxes.tolist() == [[10., 20., 40., 60.]]   # xywh -> xyxy
    assert out[1].labels.tolist() == [1]
    assert out[2].scores.tolist() == pytest.approx([0.5])
    path.write_text(json.dumps({'images': [], 'annotations': dets}))
    out2, _ = load_teacher_labels(str(path), {3: 0, 5: 1})
    assert torch.equal(out2[1].boxes, out[1].boxes)
    path.write_text(json.dumps([{'image_id': 1, 'category_id': 3,
                                 'bbox': [0, 0, 1, 1]}]))
    with pytest.raises(ValueError, match='score'):
        load_teacher_labels(str(path), {3: 0})


def _dets(rows):
    t = torch.tensor(rows, dtype=torch.float)
    return Detections(t[:, :4], t[:, 4], t[:, 5].long())


def test_union_then_threshold_and_nms():
    ours = _dets([[0, 0, 10, 10, 0.82, 0],      # A: loses to teacher A'
                  [50, 50, 70, 70, 0.90, 1],    # D: beats teacher C
                  [100, 0, 120, 20, 0.85, 0]])  # E: alone, kept
    teacher = _dets([[0, 0, 10, 9, 0.95, 0],     # A': IoU .9 with A
                     [30, 30, 40, 40, 0.70, 1],  # B: below tau
                     [50, 50, 70, 69, 0.85, 1],  # C: IoU .95 with D
                     [50, 50, 70, 70, 0.99, 0]])  # F: same box, other class
    out = fuse_and_select(ours, teacher, tau=0.8, nms_iou=0.6)
    got = {(tuple(b), round(s, 2), l) for b, s, l in zip(
        out.boxes.tolist(), out.scores.tolist(), out.labels.tolist())}
    assert got == {((0., 0., 10., 9.), 0.95, 0),
                   ((50., 50., 70., 70.), 0.9, 1),
                   ((100., 0., 120., 20.), 0.85, 0),
                   ((50., 50., 70., 70.), 0.99, 0)}
    assert out.scores.tolist() == sorted(out.scores.tolist(), reverse=True)
    # a separate, lower teacher threshold admits B
    out = fuse_and_select(ours, teacher, 0.8, 0.6, teacher_tau=0.6)
    assert 0.7 in [round(s, 2) for s in out.scores.tolist()]
    # without a teacher: VL-PLM alone (Table 9 "VL-PLM w/o fusion")
    alone = fuse_and_select(ours, None, 0.8, 0.6)
    assert sorted(alone.scores.tolist()) == pytest.approx([0.82, 0.85, 0.9])
    assert len(fuse_and_select(Detections.empty(), None, 0.8, 0.6)) == 0


def test_malformed_teacher_files_name_file_record_and_field(tmp_path):
    path = tmp_path / 'dets.json'
    good = {'image_id': 1, 'category_id': 3, 'bbox': [0, 0, 4, 4],
            'score': 0.9}
    path.write_text(json.dumps([good, dict(good, bbox=[0, 0, 4])]))
    with pytest.raises(ValueError, match=r"dets.json: record #1 field 'bbox'"):
        load_teacher_labels(str(path), {3: 0})
    path.write_text(json.dumps([good, dict(good, category_id='cat')]))
    with pytest.raises(ValueError, match=r"record #1 field 'category_id'"):
        load_teacher_labels(str(path), {3: 0})
    path.write_text('[{"image_id": 1,')
    with pytest.raises(ValueError, match=r'dets.json.*not valid json'):
        load_teacher_labels(str(path), {3: 0})
    path.write_text(json.dumps({'images': []}))
    with pytest.raises(ValueError, match="field 'annotations'"):
        load_teacher_labels(str(path), {3: 0})
    # non-finite scores and boxes without area are dropped and counted
    path.write_text(json.dumps([good, dict(good, score=float('inf')),
                                dict(good, bbox=[0, 0, 0, 4]),
                                dict(good, bbox=[0, float('nan'), 1, 1])]))
    out, counts = load_teacher_labels(str(path), {3: 0})
    assert counts == {'loaded': 1, 'not_target': 0, 'nonfinite_score': 1,
                      'degenerate_bbox': 1, 'nonfinite_bbox': 1}
    assert len(out[1]) == 1
