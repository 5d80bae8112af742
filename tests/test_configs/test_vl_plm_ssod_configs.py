"""OVD-Shapes SSOD configs of VL-PLM (Sec. 4.2): every row builds, and the
STAC student trains on batches that mix labeled ground truth and strongly
augmented pseudo-labelled images."""
import json
import os.path as osp

import pytest
import torch
from mmdet.registry import MODELS
from mmdet.utils import register_all_modules
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.runner import Runner, set_random_seed

from ovd_ext.pseudo_labels.vl_plm import ssod_split
from ovd_ext.shapes import CLASSES
from ovd_ext.testing import make_shapes

pytestmark = pytest.mark.usefixtures('fast_mmdet_bases')

PREFIX = 'configs/vl_plm/faster-rcnn_r18-narrow_fpn_ovd-shapes-ssod-10pct_'
ROWS = ('supervised', 'supervised-pls', 'supervised-vl-plm', 'stac',
        'stac-vl-plm')


@pytest.fixture(scope='module')
def ssod_data(tmp_path_factory):
    """A tiny OVD-Shapes with a 25 % split and "pseudo labels": the
    unlabeled images' ground truth with scores (and one low-score box)."""
    root = make_shapes(str(tmp_path_factory.mktemp('ssod')), num_train=12,
                       num_val=2)
    coco = json.load(open(osp.join(root, 'annotations',
                                   'instances_train.json')))
    lab, unl = ssod_split(coco, 25, seed=1)
    paths = {}
    for name, data in (('labeled', lab), ('unlabeled', unl)):
        paths[name] = osp.join(root, f'{name}.json')
        json.dump(data, open(paths[name], 'w'))
    unl_ids = {im['id'] for im in unl['images']}
    pls = [dict(a, score=0.95, pseudo=True) for a in coco['annotations']
           if a['image_id'] in unl_ids]
    paths['pls'] = osp.join(root, 'pls.json')
    json.dump({'images': unl['images'], 'categories': coco['categories'],
               'annotations': pls}, open(paths['pls'], 'w'))
    return root, paths, len(lab['images']), len(unl_ids)


def test_every_row_builds_the_same_detector():
    register_all_modules(init_default_scope=True)
    keys = None
    for row in ROWS:
        cfg = Config.fromfile(PREFIX + row + '.py')
        assert cfg.train_cfg.max_iters == 1100
        assert cfg.train_dataloader.batch_size == 4
        assert cfg.model.roi_head.bbox_head.num_classes == len(CLASSES)
        state = MODELS.build(cfg.model).state_dict()
        keys = keys or set(state)
        assert set(state) == keys, row
    pls = Config.fromfile(PREFIX + 'supervised-pls.py')
    assert pls.pseudo_labeler.teacher_only and pls.pseudo_labeler.tau == 0.8
    vl = Config.fromfile(PREFIX + 'supervised-vl-plm.py')
    assert not vl.pseudo_labeler.get('teacher_only', False)
    assert vl.pseudo_labeler.tau == 0.8 and vl.pseudo_labeler.targets == 'all'
    assert vl.pseudo_labeler.label_space == 'novel'
    stac_vl = Config.fromfile(PREFIX + 'stac-vl-plm.py')
    assert (stac_vl.train_dataloader.dataset.datasets[1].pseudo_ann_file
            == vl.train_dataloader.dataset.pseudo_ann_file)
    assert stac_vl.pseudo_labeler is None


def _stac_cfg(ssod_data):
    root, paths, _, _ = ssod_data
    cfg = Config.fromfile(PREFIX + 'stac.py')
    lab, unl = cfg.train_dataloader.dataset.datasets
    for ds, ann in ((lab, paths['labeled']), (unl, paths['unlabeled'])):
        ds.data_root = root
        ds.ann_file = ann
    unl.pseudo_ann_file = paths['pls']
    cfg.train_dataloader.num_workers = 0
    cfg.train_dataloader.persistent_workers = False
    return cfg


def test_stac_trains_on_mixed_batches(ssod_data):
    register_all_modules(init_default_scope=True)
    set_random_seed(0)
    cfg = _stac_cfg(ssod_data)
    loader = Runner.build_dataloader(cfg.train_dataloader, seed=0)
    n_lab, n_unl = (len(d) for d in loader.dataset.datasets)
    assert (n_lab, n_unl) == ssod_data[2:]
    model = MODELS.build(cfg.model)
    model.train()
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    batches = iter(loader)
    for _ in range(2):
        batch = next(batches)
        # 2 labeled + 2 pseudo-labelled images, each in its own branch
        branches = [[s is not None for s in batch['data_samples'][b]]
                    for b in ('sup', 'unsup')]
        assert [sum(b) for b in branches] == [2, 2]
        for s in batch['data_samples']['unsup']:
            if s is not None:
                assert len(s.gt_instances) > 0   # pseudo boxes arrive
        log = model.train_step(batch, optim)
        assert torch.isfinite(log['loss'])
        assert {'loss_cls', 'unsup_loss_cls', 'unsup_loss_rpn_cls'} <= set(
            log)
    changed = [k for k, v in model.state_dict().items()
               if v.dtype.is_floating_point and not torch.equal(v, before[k])]
    assert any(k.startswith('backbone.') for k in changed)
    assert any(k.startswith('roi_head.') for k in changed)
