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


def test_publish_falls_back_to_fp32_unless_fp16_is_forced(tmp_path,
                                                          monkeypatch):
    """fp16 weights that move a number by more than the tolerance are kept
    in fp32, unless ``force_fp16`` (then the fp16 numbers are recorded)."""
    from ovd_ext.apis import publish as pub
    src = tmp_path / 'iter_5.pth'
    torch.save({'meta': {'iter': 5}, 'state_dict': {'w': torch.ones(2)}},
               src)
    moved = {'coco/bbox_AP50_novel': 0.5 + (pub.FP16_TOLERANCE + 0.05) / 100}
    monkeypatch.setattr(pub.pipeline, 'test', lambda *a, **k: moved)
    cfg = 'configs/regionclip/rpn_r18-narrow_fpn_ovd-shapes-base.py'
    full = {'coco/bbox_AP50_novel': 0.5}
    for force, precision, novel in ((False, 'fp32', 50.0),
                                    (True, 'fp16', 50.15)):
        out = tmp_path / f'zoo_{force}.pth'
        prov = pub.publish(cfg, str(src), str(out), 'a' * 40,
                           str(tmp_path / 'w'), fp32_metrics=full,
                           force_fp16=force)
        assert prov['checkpoint']['precision'] == precision
        assert prov['metrics']['AP50 novel'] == novel
        dtype = torch.load(out, weights_only=True)['state_dict']['w'].dtype
        assert dtype == (torch.float16 if force else torch.float32)


def test_update_metafile_keeps_each_task_apart(tmp_path):
    """A declared empty 'Instance Segmentation' result takes the mask
    numbers only; the box numbers get their own task (they used to land in
    the empty result and be overwritten)."""
    path = tmp_path / 'metafile.yml'
    seg = 'Open-Vocabulary Instance Segmentation'
    path.write_text(yaml.safe_dump({'Models': [{
        'Name': 'm', 'Config': 'c.py',
        'Results': [{'Task': seg, 'Dataset': 'OVD-Shapes', 'Metrics': {}}]}]}))
    update_metafile(str(path), 'm', 'w.pth',
                    {'AP50 base': 44.14, 'mask AP50 base': 42.22,
                     'box APr': 3.46, 'mask APr': 3.51})
    results = yaml.safe_load(path.read_text())['Models'][0]['Results']
    by_task = {r['Task']: r['Metrics'] for r in results}
    assert by_task == {
        seg: {'mask AP50 base': 42.2, 'mask APr': 3.5},
        'Open-Vocabulary Object Detection': {'AP50 base': 44.1,
                                             'box APr': 3.5}}
