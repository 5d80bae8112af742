"""Zoo entries: weights-only fp16 files and metafile updates."""
import torch
import yaml

from ovd_ext.apis.publish import update_metafile, weights_only
from ovd_ext.apis.zoo import read_metafile


def test_weights_only_drops_training_state_and_halves(tmp_path):
    path = tmp_path / 'iter_10.pth'
    torch.save({'meta': {'iter': 10, 'seed': 0, 'hook_msgs': {'x': 1}},
                'state_dict': {'w': torch.ones(3) / 3,
                               'n': torch.tensor([7], dtype=torch.long)},
                'optimizer': {'state': {}}, 'message_hub': {}}, path)
    out = weights_only(str(path), fp16=True)
    assert set(out) == {'meta', 'state_dict'}
    assert out['meta'] == {'iter': 10, 'seed': 0}
    assert out['state_dict']['w'].dtype == torch.float16
    assert out['state_dict']['n'].dtype == torch.long
    assert abs(float(out['state_dict']['w'][0]) - 1 / 3) < 1e-3
    assert weights_only(str(path), False)['state_dict']['w'].dtype == \
        torch.float32


def test_update_metafile_sets_weights_and_rounded_metrics(tmp_path):
    mf = tmp_path / 'metafile.yml'
    mf.write_text(yaml.safe_dump({'Models': [
        {'Name': 'm', 'Config': 'c.py', 'Results': [
            {'Task': 'Pseudo Labels', 'Dataset': 'OVD-Shapes',
             'Metrics': {'AP@PL': 56.2}}]}]}))
    update_metafile(str(mf), 'm', 'checkpoints/x/m.pth',
                    {'AP50 novel': 49.44, 'box APr': 32.76,
                     'mask APr': 28.25}, {'Iterations': 1100})
    (model,) = read_metafile(str(mf))
    assert model.weights == 'checkpoints/x/m.pth'
    assert model.metrics == {'AP@PL': 56.2, 'AP50 novel': 49.4,
                             'box APr': 32.8, 'mask APr': 28.2}
    assert model.metadata == {'Iterations': 1100}


def test_update_metafile_puts_gt_box_accuracy_under_its_own_task(tmp_path):
    mf = tmp_path / 'metafile.yml'
    mf.write_text(yaml.safe_dump({'Models': [{'Name': 'z', 'Config': 'c.py'}]}))
    update_metafile(str(mf), 'z', 'checkpoints/x/z.pth',
                    {'GT-box acc': 57.63, 'GT-box acc novel': 50.01,
                     'AP50 all': 71.55})
    with open(mf) as f:
        results = yaml.safe_load(f)['Models'][0]['Results']
    tasks = {r['Task']: r['Metrics'] for r in results}
    assert tasks == {
        'Open-Vocabulary Object Detection': {'AP50 all': 71.5},
        'Zero-Shot Region Classification': {'GT-box acc': 57.6,
                                            'GT-box acc novel': 50.0}}


def test_publish_weights_writes_fp16_and_provenance_without_metrics(tmp_path):
    import json

    from ovd_ext.apis.publish import publish_weights
    from ovd_ext.apis.zoo import provenance_path
    src = tmp_path / 'iter_5.pth'
    torch.save({'meta': {'iter': 5}, 'state_dict': {'w': torch.ones(2)},
                'optimizer': {}}, src)
    out = tmp_path / 'zoo.pth'
    prov = publish_weights(
        'configs/regionclip/rpn_r18-narrow_fpn_ovd-shapes-base.py', str(src),
        str(out), 'a' * 40, train_seconds=12.0, note='loaded by configs')
    saved = torch.load(out, weights_only=True)
    assert set(saved) == {'meta', 'state_dict'}
    assert saved['state_dict']['w'].dtype == torch.float16
    with open(provenance_path(str(out))) as f:
        assert json.load(f) == prov
    assert prov['metrics'] == {} and prov['iterations'] == 5
    assert prov['checkpoint']['precision'] == 'fp16'
    assert prov['seed'] == 0 and prov['commit'] == 'a' * 40


def test_weights_only_leaves_out_train_only_modules(tmp_path):
    path = tmp_path / 'iter_3.pth'
    torch.save({'meta': {}, 'state_dict': {
        'roi_head.bbox_head.fc_cls.proj.weight': torch.ones(2, 2),
        'roi_head.semantic_branch.fcs.0.weight': torch.ones(2, 2),
        'bbox_head.semantic_branch.contrast.proj.bias': torch.ones(2)}}, path)
    out = weights_only(str(path), fp16=False)
    assert list(out['state_dict']) == ['roi_head.bbox_head.fc_cls.proj.weight']


def test_update_metafile_keeps_the_metafile_task_name(tmp_path):
    mf = tmp_path / 'metafile.yml'
    mf.write_text(yaml.safe_dump({'Models': [{'Name': 'r', 'Config': 'c.py',
                                              'Results': [{
        'Task': 'Long-Tailed Object Detection',
        'Dataset': 'OVD-Shapes (long-tailed)',
        'Metrics': {}}]}]}))
    update_metafile(str(mf), 'r', 'checkpoints/x/r.pth',
                    {'box AP': 20.04, 'box APr': 3.06, 'box APf': 30.0})
    with open(mf) as f:
        results = yaml.safe_load(f)['Models'][0]['Results']
    assert results == [{'Task': 'Long-Tailed Object Detection',
                        'Dataset': 'OVD-Shapes (long-tailed)',
                        'Metrics': {'box AP': 20.0, 'box APr': 3.1,
                                    'box APf': 30.0}}]
