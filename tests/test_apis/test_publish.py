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
