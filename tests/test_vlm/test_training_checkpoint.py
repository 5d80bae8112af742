"""ovd_ext.vlm.training.checkpoint: fp16 weights and atomic writers."""
import json
import os

import torch

from ovd_ext.vlm import build_clip
from ovd_ext.vlm.training import atomic_json, half_state_dict


def test_half_state_dict_keeps_integer_buffers():
    torch.manual_seed(0)
    rn = build_clip('ovd-tiny-rn', None)
    sd = half_state_dict(rn.model)
    ints = [k for k in sd if k.endswith('num_batches_tracked')]
    assert ints and all(sd[k].dtype == torch.int64 for k in ints)
    assert sd['visual.conv1.weight'].dtype == torch.float16


def test_atomic_json_sorted_and_no_temp_left(tmp_path):
    path = str(tmp_path / 'sub' / 'a.json')
    atomic_json({'b': 1, 'a': [1, 2]}, path)
    assert os.listdir(tmp_path / 'sub') == ['a.json']
    with open(path) as f:
        text = f.read()
    assert text == '{\n "a": [\n  1,\n  2\n ],\n "b": 1\n}\n'
    assert json.loads(text) == {'a': [1, 2], 'b': 1}
