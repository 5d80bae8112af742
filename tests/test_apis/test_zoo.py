"""The OVD-Shapes model zoo: every declared row has an honest checkpoint."""
from __future__ import annotations

import glob
import json
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from ovd_ext.apis import pipeline
from ovd_ext.apis.publish import MAX_BYTES
from ovd_ext.apis.results_table import metrics_to_columns
from ovd_ext.apis.stages import find_declarations
from ovd_ext.apis.zoo import load_zoo, metafile_paths, provenance_path

ZOO = load_zoo('.')
ROWS = [(d, r) for d in find_declarations('configs') for r in d.rows]
PROVENANCE_KEYS = {'config', 'commit', 'seed', 'iterations', 'train_seconds',
                   'machine', 'metrics', 'checkpoint'}


def test_model_index_lists_every_metafile():
    assert sorted(metafile_paths('.')) == sorted(
        './' + p for p in glob.glob('configs/*/metafile.yml'))


@pytest.mark.parametrize('row', [r for _, r in ROWS], ids=lambda r: r.model)
def test_declared_row_has_weights_and_provenance(row):
    model = ZOO[row.model]
    assert model.weights and osp.isfile(model.weights), model.weights
    assert osp.getsize(model.weights) <= MAX_BYTES
    ckpt = torch.load(model.weights, map_location='cpu', weights_only=True)
    assert set(ckpt) == {'meta', 'state_dict'}      # weights only
    with open(provenance_path(model.weights)) as f:
        prov = json.load(f)
    assert PROVENANCE_KEYS <= set(prov)
    assert prov['config'] == model.config
    assert len(prov['commit']) == 40
    # the metafile shows what the zoo file gives (rounded to 0.1)
    for title, value in prov['metrics'].items():
        assert abs(model.metrics[title] - value) <= 0.051, title


@pytest.fixture(scope='module')
def shapes_root(tmp_path_factory):
    from ovd_ext.shapes import generate_ovd_shapes
    root = str(tmp_path_factory.mktemp('ovd_shapes'))
    generate_ovd_shapes(root, workers=2, progress=False)
    return root


def test_headline_checkpoint_gives_its_metafile_numbers(shapes_root,
                                                        tmp_path):
    """Evaluate the base-only baseline's zoo checkpoint on the val split
    (generated here from the seed) and check every table number against
    the metafile to within 0.1 AP."""
    from ovd_ext.apis.vocabulary import ensure_vocabulary
    row = next(r for d, r in ROWS if d.method == 'ov_baselines'
               and r.headline)
    model = ZOO[row.model]
    cfg = Config.fromfile(model.config)
    vocab = str(tmp_path / 'vocab.npy')
    cfg.vocabulary = vocab
    ensure_vocabulary(cfg)
    root = shapes_root + '/'
    options = {
        'model.roi_head.bbox_head.vocabulary': vocab,
        'test_dataloader.dataset.data_root': root,
        'test_evaluator.0.ann_file': root + 'annotations/instances_val.json',
        'test_evaluator.1.ann_file': root + 'annotations/lvis_v1_val.json',
        'test_dataloader.num_workers': 0,
        'test_dataloader.persistent_workers': False,
    }
    metrics = metrics_to_columns(pipeline.test(
        model.config, model.weights, str(tmp_path / 'eval'), options))
    assert set(metrics) >= {'AP50 novel', 'box APr', 'mask APr'}
    # every number the metafile shows (columns added to the tables later,
    # e.g. mask AP50 base / novel, are not in older entries)
    assert set(metrics) >= set(model.metrics)
    for title, value in model.metrics.items():
        assert abs(metrics[title] - value) <= 0.1, (title, metrics[title])
