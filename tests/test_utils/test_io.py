"""Atomic writes (ovd_ext.utils.io): temp file + rename, nothing left behind
by a failed write, the old file kept."""
import json
import os

import numpy as np
import pytest
import torch

from ovd_ext.utils.io import (atomic_open, torch_save_atomic,
                              write_json_atomic, write_npy_atomic)


def test_json_npy_and_torch_writers(tmp_path):
    path = tmp_path / 'sub' / 'a.json'                 # folder created
    write_json_atomic(str(path), {'x': [1, 2]})
    assert json.load(open(path)) == {'x': [1, 2]}
    assert path.read_text() == '{\n "x": [\n  1,\n  2\n ]\n}'   # indent 1
    write_npy_atomic(str(tmp_path / 'e.npy'), np.eye(2, dtype=np.float32))
    e = np.load(tmp_path / 'e.npy')
    assert e.dtype == np.float32 and (e == np.eye(2)).all()
    torch_save_atomic(str(tmp_path / 'w.pth'), {'w': torch.ones(3)})
    assert torch.equal(torch.load(tmp_path / 'w.pth')['w'], torch.ones(3))
    assert sorted(os.listdir(tmp_path)) == ['e.npy', 'sub', 'w.pth']


def test_a_failed_write_keeps_the_old_file(tmp_path):
    path = tmp_path / 'a.json'
    write_json_atomic(str(path), {'v': 1})
    with pytest.raises(TypeError):
        write_json_atomic(str(path), {'v': object()})   # not json-able
    assert json.load(open(path)) == {'v': 1}
    assert os.listdir(tmp_path) == ['a.json']            # no temp file left
    with pytest.raises(RuntimeError):
        with atomic_open(str(tmp_path / 'b.txt')) as f:
            f.write('half')
            raise RuntimeError('killed')
    assert os.listdir(tmp_path) == ['a.json']
    with pytest.raises(ValueError, match='writes only'):
        with atomic_open(str(path), 'r'):
            pass
