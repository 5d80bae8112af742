"""img2dataset ``--output_format files`` folder -> COCO-Captions json
(ovd_ext.datasets.converters, tools/dataset_converters/cc3m_to_coco_captions.py):
exact output on a tiny fake download with good and bad items, skip counts,
the readers of the json, and the error when nothing converts."""
import json
import os.path as osp
import subprocess
import sys

import pytest
from PIL import Image

from ovd_ext.datasets import CaptionDataset
from ovd_ext.datasets.concept_pool import load_captions
from ovd_ext.datasets.converters import img2dataset_to_coco_captions

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
TOOL = osp.join(ROOT, 'tools', 'dataset_converters',
                'cc3m_to_coco_captions.py')

ZERO_SKIPS = dict(failed_status=0, bad_sidecar=0, no_image=0, no_caption=0,
                  empty_caption=0, unreadable_image=0)


def _image(path, size, fmt):
    Image.new('RGB', size, (200, 30, 60)).save(path, fmt)


def _sidecar(path, status='success', size=None):
    meta = {'status': status, 'url': 'http://x/y.jpg', 'key': path.stem,
            'width': size[0] if size else None,
            'height': size[1] if size else None}
    path.write_text(json.dumps(meta))


@pytest.fixture
def download(tmp_path):
    """Two shards as img2dataset writes them, plus its top-level files."""
    root = tmp_path / 'images'
    s0, s1 = root / '00000', root / '00001'
    s0.mkdir(parents=True)
    s1.mkdir()
    (root / '00000.parquet').write_bytes(b'PAR1')
    (root / '00000_stats.json').write_text('{"count": 4}')
    # good, with sidecar
    _image(s0 / '000000000.jpg', (20, 10), 'JPEG')
    (s0 / '000000000.txt').write_text('A dog on a sofa.')
    _sidecar(s0 / '000000000.json', size=(20, 10))
    # good, no sidecar (size read from the header), caption stripped
    _image(s0 / '000000001.png', (7, 13), 'PNG')
    (s0 / '000000001.txt').write_text('  two cups\n')
    # no caption file
    _image(s0 / '000000002.jpg', (9, 9), 'JPEG')
    _sidecar(s0 / '000000002.json', size=(9, 9))
    # corrupt image, no sidecar
    (s1 / '000010000.jpg').write_bytes(b'this is not a jpeg')
    (s1 / '000010000.txt').write_text('a broken picture')
    # failed download: img2dataset writes no image, only txt + json
    (s1 / '000010001.txt').write_text('a lost picture')
    _sidecar(s1 / '000010001.json', status='failed_to_download')
    # failed status although an image is there
    _image(s1 / '000010002.jpg', (5, 5), 'JPEG')
    (s1 / '000010002.txt').write_text('a failed picture')
    _sidecar(s1 / '000010002.json', status='failed_to_resize')
    # empty caption
    _image(s1 / '000010003.jpg', (6, 6), 'JPEG')
    (s1 / '000010003.txt').write_text(' \n')
    # good, in the second shard
    _image(s1 / '000010004.webp', (16, 12), 'WEBP')
    (s1 / '000010004.txt').write_text('a red square')
    return root


EXPECTED = {
    'images': [
        {'id': 1, 'file_name': '00000/000000000.jpg', 'width': 20,
         'height': 10},
        {'id': 2, 'file_name': '00000/000000001.png', 'width': 7,
         'height': 13},
        {'id': 3, 'file_name': '00001/000010004.webp', 'width': 16,
         'height': 12}],
    'annotations': [
        {'id': 1, 'image_id': 1, 'caption': 'A dog on a sofa.'},
        {'id': 2, 'image_id': 2, 'caption': 'two cups'},
        {'id': 3, 'image_id': 3, 'caption': 'a red square'}]}
EXPECTED_SKIPS = dict(ZERO_SKIPS, failed_status=2, no_caption=1,
                      empty_caption=1, unreadable_image=1)


def _sorted_fields(data):
    return {k: [dict(sorted(d.items())) for d in v] for k, v in data.items()}


def test_converts_good_items_and_counts_bad_ones(download, tmp_path):
    out = tmp_path / 'annotations' / 'captions_train.json'
    counts = img2dataset_to_coco_captions(str(download), str(out))
    assert counts == {'images': 3, 'skipped': EXPECTED_SKIPS}
    data = json.loads(out.read_text())
    assert _sorted_fields(data) == _sorted_fields(EXPECTED)
    # every file_name points at the image, relative to root
    for img in data['images']:
        with Image.open(download / img['file_name']) as im:
            assert im.size == (img['width'], img['height'])
    # deterministic: a second run writes the same bytes
    out2 = tmp_path / 'again.json'
    img2dataset_to_coco_captions(str(download), str(out2))
    assert out2.read_bytes() == out.read_bytes()
    # no temp file left beside the output
    assert sorted(p.name for p in out.parent.iterdir()) == [
        'captions_train.json']


def test_output_is_read_by_load_captions_and_caption_dataset(download,
                                                             tmp_path):
    out = tmp_path / 'captions.json'
    img2dataset_to_coco_captions(str(download), str(out))
    assert load_captions(str(out)) == {1: ['A dog on a sofa.'],
                                       2: ['two cups'], 3: ['a red square']}
    ds = CaptionDataset(ann_file=str(out), data_prefix=dict(img=str(download)),
                        pipeline=[], test_mode=True)
    assert len(ds) == 3
    info = ds.get_data_info(2)
    assert info['img_id'] == 3
    assert (info['height'], info['width']) == (12, 16)
    assert info['captions'] == ['a red square']
    assert info['img_path'] == osp.join(str(download), '00001',
                                        '000010004.webp')


def test_image_prefix_and_sidecar_size_wins(download, tmp_path):
    # the sidecar's size is used as is: the image header is not read
    _sidecar(download / '00000' / '000000000.json', size=(640, 480))
    out = tmp_path / 'captions.json'
    img2dataset_to_coco_captions(str(download), str(out),
                                 image_prefix='cc3m/images')
    images = json.loads(out.read_text())['images']
    assert [i['file_name'] for i in images] == [
        'cc3m/images/00000/000000000.jpg', 'cc3m/images/00000/000000001.png',
        'cc3m/images/00001/000010004.webp']
    assert [(i['width'], i['height']) for i in images] == [
        (640, 480), (7, 13), (16, 12)]


def test_bad_sidecar_is_skipped(download, tmp_path):
    (download / '00000' / '000000000.json').write_text('{"status": ')
    counts = img2dataset_to_coco_captions(str(download),
                                          str(tmp_path / 'c.json'))
    assert counts == {'images': 2,
                      'skipped': dict(EXPECTED_SKIPS, bad_sidecar=1)}


def test_nothing_converted_is_an_error(tmp_path):
    root = tmp_path / 'dl'
    (root / '00000').mkdir(parents=True)
    (root / '00000' / 'a.jpg').write_bytes(b'broken')
    (root / '00000' / 'a.txt').write_text('a caption')
    (root / '00000' / 'b.txt').write_text('caption without image')
    out = tmp_path / 'captions.json'
    with pytest.raises(ValueError, match='no image converted from') as e:
        img2dataset_to_coco_captions(str(root), str(out))
    assert str(root) in str(e.value)
    assert "'unreadable_image': 1" in str(e.value)
    assert "'no_image': 1" in str(e.value)
    assert not out.exists()
    # a folder without shards
    empty = tmp_path / 'empty'
    empty.mkdir()
    with pytest.raises(ValueError, match='found 0 items'):
        img2dataset_to_coco_captions(str(empty), str(out))
    with pytest.raises(FileNotFoundError, match='not found'):
        img2dataset_to_coco_captions(str(tmp_path / 'missing'), str(out))


def _run_tool(*args):
    return subprocess.run([sys.executable, TOOL, *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=300)


def test_cli(download, tmp_path):
    out = tmp_path / 'ann' / 'captions_train.json'
    proc = _run_tool(str(download), '--out', str(out),
                     '--image-prefix', 'images/')
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[:2] == ['images: 3', 'skipped: 5']
    assert '  failed_status: 2' in lines
    assert '  unreadable_image: 1' in lines
    assert '  no_caption: 1' in lines
    assert '  empty_caption: 1' in lines
    assert lines[-1] == f'wrote {out}'
    data = json.loads(out.read_text())
    assert [i['file_name'] for i in data['images']] == [
        'images/' + i['file_name'] for i in EXPECTED['images']]
    assert data['annotations'] == EXPECTED['annotations']

    empty = tmp_path / 'empty'
    empty.mkdir()
    proc = _run_tool(str(empty), '--out', str(tmp_path / 'x.json'))
    assert proc.returncode != 0
    assert f'error: no image converted from {empty}' in proc.stderr
    assert 'Traceback' not in proc.stderr
    assert not (tmp_path / 'x.json').exists()
