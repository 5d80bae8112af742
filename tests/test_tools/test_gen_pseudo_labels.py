"""tools/gen_pseudo_labels.py: a config's labeler + runner arguments;
sharded run + merge == unsharded run, a corrupt and a truncated image are
skipped and reported, parallel workers, teacher-only SSOD baseline, and
tools/analysis/pseudo_label_quality.py / tools/make_ssod_splits.py."""
import importlib.util
import json
import os.path as osp
import warnings

import pytest

ROOT = osp.join(osp.dirname(__file__), '..', '..')
STUDENT = osp.join(ROOT, 'configs', 'vl_plm',
                   'mask-rcnn_r18-narrow_fpn_clip-head_vl-plm_ovd-shapes.py')
SSOD_PLS = osp.join(ROOT, 'configs', 'vl_plm',
                    'faster-rcnn_r50_fpn_90k_coco-ssod-10pct_supervised-'
                    'pls.py')


def load_tool(rel):
    spec = importlib.util.spec_from_file_location(
        osp.basename(rel)[:-3], osp.join(ROOT, rel))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    """Four OVD-Shapes train images, the third one corrupted, the fourth a
    JPEG cut off in the middle (OpenCV decodes it partially)."""
    import cv2
    from ovd_ext.shapes import generate_ovd_shapes
    root = tmp_path_factory.mktemp('shapes')
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        generate_ovd_shapes(str(root), num_train=4, num_val=1,
                            num_imagelabel=0, seed=2, progress=False)
    ann = osp.join(root, 'annotations', 'instances_train.json')
    coco = json.load(open(ann))
    imgs = sorted(coco['images'], key=lambda i: i['id'])
    bad = osp.join(root, 'images', imgs[2]['file_name'])
    with open(bad, 'r+b') as f:
        f.truncate(40)                                 # a cut-off PNG
    png = osp.join(root, 'images', imgs[3]['file_name'])
    jpg = png.rsplit('.', 1)[0] + '.jpg'
    cv2.imwrite(jpg, cv2.imread(png))
    data = open(jpg, 'rb').read()
    open(jpg, 'wb').write(data[:len(data) // 2])
    imgs[3]['file_name'] = osp.relpath(jpg, osp.join(root, 'images'))
    coco['images'] = imgs
    json.dump(coco, open(ann, 'w'))
    return str(root), ann, imgs


#: the student config's labeler, with random weights and settings for them
#: (random models give RPN scores ~0.5 and flat CLIP distributions)
RANDOM = ['pseudo_labeler.random_weights=[proposal,clip]',
          'pseudo_labeler.vocabulary=None',
          'pseudo_labeler.clip.name=ovd-tiny-vit',
          'pseudo_labeler.clip.templates=single',
          'pseudo_labeler.label_space=novel', 'pseudo_labeler.tau=0.3',
          'pseudo_labeler.topk=15', 'pseudo_labeler.refine_iters=1',
          'pseudo_labeler.max_regions=None', 'pseudo_label_run.workers=1']


def args(data, out, *extra, options=()):
    root, ann, _ = data
    return [STUDENT, '--ann-file', ann, '--img-dir', osp.join(root, 'images'),
            '--out', out, '--no-progress', *extra,
            '--cfg-options', *RANDOM, *options]


def test_sharded_equals_unsharded_and_bad_image_reported(data, tmp_path,
                                                         capsys):
    tool = load_tool('tools/gen_pseudo_labels.py')
    one = str(tmp_path / 'one' / 'pl.json')
    assert tool.main(args(data, one)) == 0
    out = capsys.readouterr().out
    assert 'skipped 2 unreadable images' in out
    two = str(tmp_path / 'two' / 'pl.json')
    assert tool.main(args(data, two, '--shard', '0/2')) == 0
    assert 'run the other shards' in capsys.readouterr().out
    assert not osp.exists(two)
    with pytest.raises(RuntimeError, match='incomplete'):
        tool.main(args(data, two, '--merge', '--shards', '2'))
    assert tool.main(args(data, two, '--shard', '1/2')) == 0
    assert tool.main(args(data, two, '--merge', '--shards', '2')) == 0
    a, b = json.load(open(one)), json.load(open(two))
    assert a['annotations'] == b['annotations'] and a['annotations']
    assert a['images'] == b['images'] and len(a['images']) == 2
    rep = json.load(open(str(tmp_path / 'one' / 'pl.report.json')))
    assert rep['num_skipped'] == 2
    assert [s['image_id'] for s in rep['skipped']] == [data[2][2]['id'],
                                                      data[2][3]['id']]
    assert rep['skipped_by_reason'] == {'corrupt': 1, 'truncated': 1}
    # other settings: refused, unless started over
    with pytest.raises(ValueError, match='tau: 0.3 -> 0.4'):
        tool.main(args(data, one, options=['pseudo_labeler.tau=0.4']))
    assert tool.main(args(data, one, '--restart',
                          options=['pseudo_labeler.tau=0.4'])) == 0


def test_bad_settings_and_missing_inputs(data, tmp_path):
    tool = load_tool('tools/gen_pseudo_labels.py')
    out = str(tmp_path / 'pl.json')
    for option, message in (('pseudo_labeler.tau=1.5', r'tau .*\[0, 1\]'),
                            ('pseudo_labeler.tau=nan', 'tau .* got nan'),
                            ('pseudo_labeler.logit_scale=-1', 'logit_scale'),
                            ('pseudo_labeler.nms_iou=0', 'nms_iou'),
                            ('pseudo_labeler.topk=0', 'topk'),
                            ('pseudo_labeler.scales=[1,-1.5]', 'scales')):
        with pytest.raises(ValueError, match=message):
            tool.main(args(data, out, options=[option]))
    root, ann, _ = data
    with pytest.raises(ValueError, match='proposal_checkpoint is not set'):
        tool.main([STUDENT, '--ann-file', ann, '--out', out])
    # a missing CLIP checkpoint fails before any shard is written
    with pytest.raises(FileNotFoundError):
        tool.main(args(data, out, options=[
            'pseudo_labeler.random_weights=[proposal]',
            f'pseudo_labeler.clip.checkpoint={tmp_path}/none.pt']))
    assert not osp.exists(tmp_path / 'pl.shards') and not osp.exists(out)
    with pytest.raises(SystemExit):
        tool.main(['--ann-file', ann, '--out', out])      # no config


def test_parallel_workers_equal_a_sequential_run(data, tmp_path):
    """--workers 2: two single-threaded shard processes, merged; the json
    matches the sequential run (up to thread-count rounding)."""
    tool = load_tool('tools/gen_pseudo_labels.py')
    one = str(tmp_path / 'one' / 'pl.json')
    par = str(tmp_path / 'par' / 'pl.json')
    assert tool.main(args(data, one)) == 0
    assert tool.main(args(data, par, '--workers', '2')) == 0
    a, b = json.load(open(one)), json.load(open(par))
    assert a['images'] == b['images']
    assert len(a['annotations']) == len(b['annotations']) > 0
    for x, y in zip(a['annotations'], b['annotations']):
        assert x['category_id'] == y['category_id']
        assert x['score'] == pytest.approx(y['score'], abs=1e-3)
        assert x['bbox'] == pytest.approx(y['bbox'], abs=0.05)
    assert osp.isfile(str(tmp_path / 'par' / 'pl.shards' /
                          'shard-001-of-002.jsonl'))
    with pytest.raises(SystemExit, match='drop --shard'):
        tool.main(args(data, par, '--workers', '2', '--shard', '0/2'))

def test_teacher_only_and_quality_tool(data, tmp_path, capsys):
    tool = load_tool('tools/gen_pseudo_labels.py')
    _, ann, imgs = data
    gt = json.load(open(ann))
    star = next(c['id'] for c in gt['categories'] if c['name'] == 'star')
    teacher = [{'image_id': imgs[0]['id'], 'category_id': star,
                'bbox': [5, 5, 20, 20], 'score': 0.95},
               {'image_id': imgs[0]['id'], 'category_id': star,
                'bbox': [6, 5, 20, 20], 'score': 0.9},    # NMS'd
               {'image_id': imgs[1]['id'], 'category_id': star,
                'bbox': [5, 5, 20, 20], 'score': 0.5}]    # below tau
    tpath = tmp_path / 'teacher.json'
    tpath.write_text(json.dumps(teacher))
    out = str(tmp_path / 't' / 'pl.json')
    root = data[0]
    assert tool.main([SSOD_PLS, '--ann-file', ann, '--img-dir',
                      osp.join(root, 'images'), '--out', out,
                      '--no-progress', '--cfg-options',
                      f'pseudo_labeler.teacher={tpath}']) == 0
    pl = json.load(open(out))
    assert [(a['image_id'], a['score']) for a in pl['annotations']] == [
        (imgs[0]['id'], 0.95)]
    quality = load_tool('tools/analysis/pseudo_label_quality.py')
    assert quality.main([ann, out, '--targets', 'star', '--images', 'all',
                         '--out', str(tmp_path / 'q.json')]) == 0
    assert 'AP@PL' in capsys.readouterr().out
    q = json.load(open(tmp_path / 'q.json'))
    # the two unreadable images are not in the json
    assert q['#@PL'] == pytest.approx(1 / 2) and q['num_pl'] == 1


def test_make_ssod_splits_tool(data, tmp_path):
    tool = load_tool('tools/make_ssod_splits.py')
    assert tool.main([data[1], '--out-dir', str(tmp_path), '--percents',
                      '50', '--seeds', '3']) == 0
    lab = json.load(open(tmp_path / 'instances_train.3@50.json'))
    unl = json.load(open(tmp_path / 'instances_train.3@50-unlabeled.json'))
    assert len(lab['images']) == 2 and len(unl['images']) == 2
