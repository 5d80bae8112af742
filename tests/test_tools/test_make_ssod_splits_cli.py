"""tools/make_ssod_splits.py as a command: deterministic files, disjoint
labeled / unlabeled images, annotations only in the labeled split."""
import json
import os.path as osp
import subprocess
import sys

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
TOOL = osp.join(ROOT, 'tools', 'make_ssod_splits.py')
N_IMAGES = 40


def _coco():
    # images 1..40; image i has (i % 3) annotations (some none at all)
    anns, k = [], 0
    for i in range(1, N_IMAGES + 1):
        for j in range(i % 3):
            k += 1
            anns.append({'id': k, 'image_id': i, 'category_id': 1 + j,
                         'bbox': [i, j, 5, 5], 'area': 25, 'iscrowd': 0})
    return {'info': {'description': 'tiny'},
            'images': [{'id': i, 'file_name': f'{i:03d}.png', 'width': 64,
                        'height': 48} for i in range(1, N_IMAGES + 1)],
            'annotations': anns,
            'categories': [{'id': 1, 'name': 'a'}, {'id': 2, 'name': 'b'}]}


def _run(*args):
    proc = subprocess.run([sys.executable, TOOL, *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc


def _load(path):
    with open(path) as f:
        return json.load(f)


def test_cli_writes_disjoint_deterministic_splits(tmp_path):
    """Two runs (the second with --prefix) write the same bytes; seeds give
    other labeled sets; the splits are disjoint and complete."""
    src = tmp_path / 'instances_train.json'
    coco = _coco()
    src.write_text(json.dumps(coco))
    a, b = tmp_path / 'a', tmp_path / 'b'
    args = ['--percents', '10', '25', '--seeds', '1', '2']
    pa = _run(str(src), '--out-dir', str(a), *args)
    pb = _run(str(src), '--out-dir', str(b), *args, '--prefix', 'shapes')
    names = [f'{s}@{p}{u}.json' for s in (1, 2) for p in (10, 25)
             for u in ('', '-unlabeled')]
    # one printed path per file, in order, naming the files written
    assert pa.stdout.splitlines() == [str(a / f'instances_train.{n}')
                                      for n in names]
    assert pb.stdout.splitlines() == [str(b / f'shapes.{n}') for n in names]
    # byte-identical across runs: the draw depends on ids, percent and seed
    for n in names:
        assert ((a / f'instances_train.{n}').read_bytes()
                == (b / f'shapes.{n}').read_bytes()), n
    all_ids = {im['id'] for im in coco['images']}
    anns_of = {}
    for ann in coco['annotations']:
        anns_of.setdefault(ann['image_id'], []).append(ann)
    labeled = {}
    for seed in (1, 2):
        for pct, n_lab in (('10', 4), ('25', 10)):
            lab = _load(a / f'instances_train.{seed}@{pct}.json')
            unl = _load(a / f'instances_train.{seed}@{pct}-unlabeled.json')
            li = {im['id'] for im in lab['images']}
            ui = {im['id'] for im in unl['images']}
            labeled[seed, pct] = frozenset(li)
            assert len(li) == n_lab and len(ui) == N_IMAGES - n_lab
            assert not li & ui and li | ui == all_ids
            assert unl['annotations'] == []
            # every annotation of a labeled image, unchanged, and no other
            want = sorted((x for i in li for x in anns_of.get(i, [])),
                          key=lambda x: x['id'])
            assert sorted(lab['annotations'], key=lambda x: x['id']) == want
            by_id = {im['id']: im for im in coco['images']}
            assert all(im == by_id[im['id']] for im in lab['images'] +
                       unl['images'])
            for split in (lab, unl):
                assert split['categories'] == coco['categories']
                assert split['info'] == coco['info']
    assert labeled[1, '25'] != labeled[2, '25']
    assert labeled[1, '10'] != labeled[2, '10']


def test_cli_rejects_bad_input(tmp_path):
    src = tmp_path / 'train.json'
    src.write_text(json.dumps(_coco()))
    proc = subprocess.run([sys.executable, TOOL, str(src), '--out-dir',
                           str(tmp_path / 'x'), '--percents', '100'],
                          capture_output=True, text=True, cwd=ROOT,
                          timeout=300)
    assert proc.returncode != 0
    assert 'percent must be in (0, 100)' in proc.stderr
    assert not osp.exists(tmp_path / 'x' / 'train.1@100.json')
