"""STAC student (ovd_ext/models/detectors/stac.py): L = L_s + lambda_u L_u
over multi-branch batches, a plain Faster R-CNN otherwise."""
import copy

import pytest
import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmdet.utils import register_all_modules
from mmengine.config import Config
from mmengine.structures import InstanceData

import ovd_ext  # noqa: F401

pytestmark = pytest.mark.usefixtures('fast_mmdet_bases')

STAC_CFG = ('configs/vl_plm/'
            'faster-rcnn_r18-narrow_fpn_ovd-shapes-ssod-10pct_stac.py')
SUP_CFG = ('configs/vl_plm/'
           'faster-rcnn_r18-narrow_fpn_ovd-shapes-ssod-10pct_supervised.py')


@pytest.fixture(scope='module')
def stac_model_cfg():
    register_all_modules(init_default_scope=True)
    return Config.fromfile(STAC_CFG).model


def _build(model_cfg, **kw):
    torch.manual_seed(0)
    cfg = copy.deepcopy(model_cfg)
    cfg.update(kw)
    return MODELS.build(cfg)


def _samples(n, seed, size=96):
    g = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for _ in range(n):
        inputs.append(torch.randint(0, 255, (3, size, size), generator=g,
                                    dtype=torch.uint8))
        s = DetDataSample(metainfo=dict(img_shape=(size, size),
                                        ori_shape=(size, size),
                                        scale_factor=(1.0, 1.0)))
        xy = torch.rand(2, 2, generator=g) * 50
        s.gt_instances = InstanceData(
            bboxes=torch.cat([xy, xy + 20 + torch.rand(2, 2, generator=g)
                              * 20], 1),
            labels=torch.randint(0, 20, (2,), generator=g))
        samples.append(s)
    return {'inputs': inputs, 'data_samples': samples}


def _branches(model, sup=None, unsup=None):
    """A collated multi-branch batch (what MultiBranch + pseudo_collate
    give) through the model's MultiBranchDataPreprocessor."""
    data = {'inputs': {}, 'data_samples': {}}
    for name, part in (('sup', sup), ('unsup', unsup)):
        if part is not None:
            data['inputs'][name] = part['inputs']
            data['data_samples'][name] = part['data_samples']
    return model.data_preprocessor(data, True)


def _loss(model, data):
    return model.loss(data['inputs'], data['data_samples'])


def _total(losses, prefix=''):
    out = 0.
    for k, v in losses.items():
        if k.startswith(prefix) and 'loss' in k:
            out = out + (sum(v) if isinstance(v, list) else v)
    return out


def test_config_holds_stac_defaults(stac_model_cfg):
    cfg = Config.fromfile(STAC_CFG)
    assert cfg.model.type == 'STAC'
    assert cfg.model.unsup_weight == 2.0 and cfg.model.sup_weight == 1.0
    assert cfg.pseudo_labeler.tau == 0.9 and cfg.pseudo_labeler.teacher_only
    sampler = cfg.train_dataloader.sampler
    assert sampler.type == 'GroupMultiSourceSampler'
    assert sampler.source_ratio == [1, 1]
    assert cfg.model.data_preprocessor.type == 'MultiBranchDataPreprocessor'


def test_unsupervised_loss_is_lambda_times_the_detector_loss(
        stac_model_cfg):
    model = _build(stac_model_cfg).train()
    unsup = _samples(2, seed=1)
    torch.manual_seed(3)
    got = _loss(model, _branches(model, unsup=unsup))
    assert set(got) and all(k.startswith('unsup_') for k in got)
    plain = _build(stac_model_cfg, unsup_weight=1.0).train()
    plain.load_state_dict(model.state_dict())
    torch.manual_seed(3)
    ref = _loss(plain, _branches(plain, unsup=unsup))
    assert float(_total(got)) == pytest.approx(2 * float(_total(ref)),
                                               rel=1e-5)
    for key in ('unsup_loss_cls', 'unsup_loss_bbox'):
        assert float(got[key]) == pytest.approx(2 * float(ref[key]),
                                                rel=1e-5)


def test_mixed_batch_sums_both_losses_and_trains_the_whole_detector(
        stac_model_cfg):
    model = _build(stac_model_cfg).train()
    losses = _loss(model, _branches(model, sup=_samples(2, 1),
                                    unsup=_samples(2, 2)))
    sup_keys = {k for k in losses if not k.startswith('unsup_')}
    assert {'loss_rpn_cls', 'loss_rpn_bbox', 'loss_cls',
            'loss_bbox'} <= sup_keys
    assert {'unsup_' + k for k in ('loss_rpn_cls', 'loss_rpn_bbox',
                                   'loss_cls', 'loss_bbox')} <= set(losses)
    total, _ = model.parse_losses(losses)
    assert float(total) == pytest.approx(
        float(_total(losses, 'loss')) + float(_total(losses, 'unsup_')),
        rel=1e-5)
    model.zero_grad()
    _total(losses, 'unsup_').backward()
    for name in ('backbone', 'neck', 'rpn_head', 'roi_head'):
        grads = [p.grad for p in getattr(model, name).parameters()
                 if p.grad is not None]
        assert grads and any(float(g.abs().sum()) > 0 for g in grads), name


def test_plain_batches_and_zero_weight(stac_model_cfg):
    model = _build(stac_model_cfg, unsup_weight=0.0).train()
    plain = model.data_preprocessor.data_preprocessor(_samples(2, 1), True)
    losses = _loss(model, plain)
    assert 'loss_cls' in losses and not any(k.startswith('unsup_')
                                            for k in losses)
    losses = _loss(model, _branches(model, sup=_samples(1, 1),
                                    unsup=_samples(1, 2)))
    assert float(_total(losses, 'unsup_')) == 0.0


def test_bad_branches_and_weights(stac_model_cfg):
    model = _build(stac_model_cfg).train()
    data = _branches(model, sup=_samples(1, 1))
    data['inputs']['unsup_student'] = data['inputs'].pop('sup')
    data['data_samples']['unsup_student'] = data['data_samples'].pop('sup')
    with pytest.raises(KeyError, match="unknown branch.*unsup_student"):
        _loss(model, data)
    with pytest.raises(ValueError, match='loss weights must be >= 0'):
        _build(stac_model_cfg, unsup_weight=-1.0)


def test_weights_load_into_a_plain_faster_rcnn(stac_model_cfg):
    """A STAC checkpoint is a Faster R-CNN's: the Supervised config's
    detector loads it strictly and predicts the same boxes."""
    stac = _build(stac_model_cfg).eval()
    frcnn = MODELS.build(Config.fromfile(SUP_CFG).model).eval()
    frcnn.load_state_dict(stac.state_dict(), strict=True)
    data = stac.data_preprocessor(_samples(1, 5), False)
    with torch.no_grad():
        a = stac.predict(data['inputs'],
                         data['data_samples'])[0].pred_instances
        data = frcnn.data_preprocessor(_samples(1, 5), False)
        b = frcnn.predict(data['inputs'],
                          data['data_samples'])[0].pred_instances
    assert torch.equal(a.bboxes, b.bboxes) and torch.equal(a.labels, b.labels)
