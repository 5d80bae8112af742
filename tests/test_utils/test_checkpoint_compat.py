"""A checkpoint saved by mmengine's Runner loads back under torch's safe loader."""
import numpy as np
import torch
from mmengine.logging import MessageHub
from mmengine.runner.checkpoint import _load_checkpoint, save_checkpoint

import ovd_ext  # noqa: F401  (registers the allowlist)


def test_runner_style_checkpoint_round_trips(tmp_path):
    hub = MessageHub.get_instance('ckpt_compat_test')
    hub.update_scalar('train/loss', np.float64(0.5))
    hub.update_scalar('train/acc', 3)
    hub.update_info('iter', 7)
    path = str(tmp_path / 'epoch_1.pth')
    weights = {'w': torch.arange(4.)}
    save_checkpoint(dict(state_dict=weights, message_hub=hub.state_dict(),
                         meta=dict(epoch=1, seed=np.int64(3))), path)
    ckpt = _load_checkpoint(path, map_location='cpu')   # torch.load default
    torch.testing.assert_close(ckpt['state_dict']['w'], weights['w'])
    buf = ckpt['message_hub']['log_scalars']['train/loss']
    assert buf.current() == 0.5
    assert ckpt['meta']['seed'] == 3
