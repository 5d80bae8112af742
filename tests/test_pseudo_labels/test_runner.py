"""Sharded, resumable runs of any labeler: resume == uninterrupted, bad
images skipped and reported, shards merged (optional fields carried, bad
rows dropped and counted), settings checked, nothing written before the
labeler is loaded."""
import json
import os.path as osp

import cv2
import numpy as np
import pytest

from ovd_ext.pseudo_labels import (PSEUDO_LABELERS, BaseLabeler, ShardLog,
                                   merge_shards, parse_shard, report_path,
                                   run_labeler, run_shard, shard_images,
                                   shard_path)
from ovd_ext.utils import read_image


@pytest.fixture
def dataset(tmp_path):
    """6 images: 4 good, 1 corrupt, 1 missing (ids not in file order)."""
    img_dir = tmp_path / 'imgs'
    img_dir.mkdir()
    images = []
    for k, img_id in enumerate([7, 3, 11, 5, 9, 2]):
        name = f'{img_id}.png'
        images.append({'id': img_id, 'file_name': name, 'width': 20 + k,
                       'height': 16})
        if img_id == 9:
            (img_dir / name).write_bytes(b'not a png at all')
        elif img_id != 2:
            img = np.full((16, 20 + k, 3), 10 * img_id, dtype=np.uint8)
            cv2.imwrite(str(img_dir / name), img)
    coco = {'images': images, 'annotations': [],
            'categories': [{'id': 4, 'name': 'star'},
                           {'id': 8, 'name': 'ring'}]}
    return coco, str(img_dir)


def label_fn(info, img):
    """Deterministic fake labeller: one box per image from its pixels."""
    v = float(img.mean()) / 255
    return [{'bbox': [1.0, 2.0, 3.0 + v, 4.0], 'category_id': 4,
             'score': round(0.5 + v / 2, 5)},
            {'bbox': [0.0, 0.0, 5.0, 5.0], 'category_id': 8, 'score': 0.9}]


HEADER = {'settings': {'tau': 0.8}, 'inputs': {'ann_file': 'x.json'}}


def run_all(coco, img_dir, out, count=1, fn=label_fn):
    for i in range(count):
        log = ShardLog(shard_path(out, i, count), HEADER)
        run_shard(shard_images(coco['images'], i, count), img_dir, log, fn,
                  progress=False)
    return merge_shards(out, count, coco)


def test_parse_and_split_shards():
    assert parse_shard('1/4') == (1, 4)
    for bad in ('4/4', '1', 'a/b', '-1/2'):
        with pytest.raises(ValueError):
            parse_shard(bad)
    ims = [{'id': i} for i in (5, 1, 4, 2, 3)]
    assert [im['id'] for im in shard_images(ims, 0, 2)] == [1, 3, 5]
    assert [im['id'] for im in shard_images(ims, 1, 2)] == [2, 4]
    assert [im['id'] for im in shard_images(ims, 0, 1, 3)] == [1, 2, 3]


def test_output_format_and_bad_images_reported(dataset, tmp_path):
    coco, img_dir = dataset
    out = str(tmp_path / 'pl.json')
    report = run_all(coco, img_dir, out)
    pl = json.load(open(out))
    assert [im['id'] for im in pl['images']] == [3, 5, 7, 11]
    assert pl['categories'] == coco['categories']
    a = pl['annotations'][0]
    assert set(a) == {'id', 'image_id', 'category_id', 'bbox', 'area',
                      'score', 'iscrowd', 'pseudo'}
    assert a['pseudo'] is True and a['iscrowd'] == 0
    assert [x['id'] for x in pl['annotations']] == list(range(1, 9))
    assert a['image_id'] == 3 and a['score'] == 0.9       # by score per image
    assert a['area'] == 25.0
    assert report['num_skipped'] == 2 and report['num_pseudo_labels'] == 8
    reasons = {s['image_id']: s['reason'] for s in report['skipped']}
    assert 'cannot decode' in reasons[9] and 'missing' in reasons[2]
    assert report['skipped_by_reason'] == {'corrupt': 1, 'missing': 1}
    assert pl['info']['format_version'] == 1
    assert pl['info']['settings'] == HEADER
    assert json.load(open(report_path(out)))['skipped'] == report['skipped']
    assert report['per_category'] == {'star': 4, 'ring': 4}


def test_resume_after_interruption_gives_the_same_json(dataset, tmp_path):
    coco, img_dir = dataset
    ref = str(tmp_path / 'ref' / 'pl.json')
    run_all(coco, img_dir, ref)
    out = str(tmp_path / 'run' / 'pl.json')
    calls = []

    def dies_after_two(info, img):
        if len(calls) == 2:
            raise KeyboardInterrupt
        calls.append(info['id'])
        return label_fn(info, img)
    log = ShardLog(shard_path(out, 0, 1), HEADER)
    with pytest.raises(KeyboardInterrupt):
        run_shard(coco['images'], img_dir, log, dies_after_two, False)
    with open(shard_path(out, 0, 1), 'a') as f:
        f.write('{"image_id": 11, "annot')          # killed mid-write
    seen = []

    def counting(info, img):
        seen.append(info['id'])
        return label_fn(info, img)
    log = ShardLog(shard_path(out, 0, 1), HEADER)
    assert sorted(log.records) == [3, 7]           # the partial line is gone
    counts = run_shard(coco['images'], img_dir, log, counting, False)
    assert sorted(seen) == [5, 11]     # finished (and unreadable) not labeled
    assert counts == {'done_before': 2, 'labeled': 2, 'skipped': 2}
    merge_shards(out, 1, coco)
    assert open(out).read() == open(ref).read()


def test_sharded_run_equals_unsharded(dataset, tmp_path):
    coco, img_dir = dataset
    one = str(tmp_path / 'a' / 'pl.json')
    three = str(tmp_path / 'b' / 'pl.json')
    run_all(coco, img_dir, one, 1)
    run_all(coco, img_dir, three, 3)
    a, b = json.load(open(one)), json.load(open(three))
    assert a['annotations'] == b['annotations'] and a['images'] == b['images']


def test_merge_refuses_incomplete_shards(dataset, tmp_path):
    coco, img_dir = dataset
    out = str(tmp_path / 'pl.json')
    log = ShardLog(shard_path(out, 0, 2), HEADER)
    run_shard(shard_images(coco['images'], 0, 2), img_dir, log, label_fn,
              False)
    with pytest.raises(RuntimeError, match='1/2: not started'):
        merge_shards(out, 2, coco)
    assert not osp.exists(out)


def test_other_settings_refuse_to_resume(tmp_path):
    path = str(tmp_path / 's.jsonl')
    ShardLog(path, HEADER)
    other = {'settings': {'tau': 0.5}, 'inputs': {'ann_file': 'x.json'}}
    with pytest.raises(ValueError, match='tau: 0.8 -> 0.5'):
        ShardLog(path, other)


def test_read_image_checks_size(dataset):
    coco, img_dir = dataset
    assert read_image(osp.join(img_dir, '7.png'), 20, 16).shape == (16, 20, 3)
    with pytest.raises(Exception, match='json says 30x16'):
        read_image(osp.join(img_dir, '7.png'), 30, 16)


def test_killed_while_writing_the_header(tmp_path):
    path = tmp_path / 's.jsonl'
    path.write_text('{"header": {"sett')
    log = ShardLog(str(path), HEADER)
    assert log.records == {}
    assert json.loads(path.read_text().splitlines()[0]) == {'header': HEADER}


def test_optional_fields_carried_and_bad_rows_dropped(dataset, tmp_path):
    coco, img_dir = dataset
    rle = {'size': [16, 20], 'counts': [0, 320]}

    def rows(info, img):
        return [{'bbox': [1.0, 1.0, 4.0, 4.0], 'category_id': 4,
                 'score': 0.9, 'segmentation': rle, 'word_id': 12},
                {'bbox': [1.0, 1.0, 0.0, 4.0], 'category_id': 4,
                 'score': 0.8},                          # no area
                {'bbox': [1.0, 1.0, 2.0, 2.0], 'category_id': 8,
                 'score': float('nan')}]
    out = str(tmp_path / 'pl.json')
    report = run_all(coco, img_dir, out, fn=rows)
    pl = json.load(open(out))
    a = pl['annotations'][0]
    assert a['segmentation'] == rle and a['word_id'] == 12
    assert a['area'] == 320.0                            # the mask's area
    assert len(pl['annotations']) == 4                   # one per image
    assert report['dropped_by_reason'] == {'degenerate_bbox': 4,
                                           'nonfinite_score': 4}

    def malformed(info, img):
        return [{'bbox': [1.0, 1.0, 4.0], 'category_id': 4, 'score': 0.9}]
    with pytest.raises(ValueError, match=r"image 3\): record #0 field "
                       "'bbox'"):
        run_all(coco, img_dir, str(tmp_path / 'bad' / 'pl.json'),
                fn=malformed)


@PSEUDO_LABELERS.register_module(force=True)
class CountingLabeler(BaseLabeler):
    """A labeler for the runner tests: label_fn's boxes; ``fail_load``
    raises in load() like a missing checkpoint would."""
    loads = 0

    def __init__(self, ann_file, tau=0.5, fail_load=False):
        super().__init__(ann_file)
        if not 0 <= tau <= 1:
            raise ValueError(f'tau must be in [0, 1], got {tau}')
        self.tau, self.fail_load = tau, fail_load

    def header(self):
        return {'type': 'CountingLabeler', 'tau': self.tau}

    def load(self):
        if self.fail_load:
            raise FileNotFoundError('checkpoint x.pth not found')
        CountingLabeler.loads += 1

    def __call__(self, image_info, image):
        return label_fn(image_info, image)


def test_run_labeler_builds_resumes_and_writes_nothing_on_failure(
        dataset, tmp_path):
    coco, img_dir = dataset
    ann = tmp_path / 'ann.json'
    ann.write_text(json.dumps(coco))
    out = str(tmp_path / 'run' / 'pl.json')
    for bad in (dict(type='CountingLabeler', tau=2.0),
                dict(type='CountingLabeler', fail_load=True)):
        with pytest.raises((ValueError, FileNotFoundError)):
            run_labeler(bad, str(ann), img_dir, out, progress=False)
        assert not osp.exists(tmp_path / 'run')      # no header-only shard
    CountingLabeler.loads = 0
    res = run_labeler(dict(type='CountingLabeler'), str(ann), img_dir, out,
                      progress=False)
    assert res['counts'] == {'done_before': 0, 'labeled': 4, 'skipped': 2}
    assert res['report']['num_pseudo_labels'] == 8
    ref = str(tmp_path / 'ref' / 'pl.json')
    run_all(coco, img_dir, ref)
    assert json.load(open(out))['annotations'] == \
        json.load(open(ref))['annotations']
    # finished: resumed without loading the models again
    res = run_labeler(dict(type='CountingLabeler'), str(ann), img_dir, out,
                      progress=False)
    assert res['counts']['done_before'] == 6 and CountingLabeler.loads == 1
    with pytest.raises(ValueError, match='tau: 0.5 -> 0.6'):
        run_labeler(dict(type='CountingLabeler', tau=0.6), str(ann), img_dir,
                    out, progress=False)
    # resume=False starts over with the new settings
    res = run_labeler(dict(type='CountingLabeler', tau=0.6), str(ann),
                      img_dir, out, progress=False, resume=False)
    assert res['counts']['labeled'] == 4
    assert json.load(open(out))['info']['settings']['labeler']['tau'] == 0.6
    # one shard of two: no merge; then the other, then the merge
    two = str(tmp_path / 'two' / 'pl.json')
    res = run_labeler(dict(type='CountingLabeler'), str(ann), img_dir, two,
                      shard='1/2', progress=False)
    assert res['report'] is None and not osp.exists(two)
    run_labeler(dict(type='CountingLabeler'), str(ann), img_dir, two,
                shard='0/2', progress=False)
    merge_shards(two, 2, coco)
    assert json.load(open(two))['annotations'] == \
        json.load(open(ref))['annotations']
    for kw, msg in ((dict(workers=0), 'workers'),
                    (dict(workers=2, shard='0/2'), 'leave shard out'),
                    (dict(max_images=0), 'max_images')):
        with pytest.raises(ValueError, match=msg):
            run_labeler(dict(type='CountingLabeler'), str(ann), img_dir,
                        str(tmp_path / 'x.json'), **kw)
