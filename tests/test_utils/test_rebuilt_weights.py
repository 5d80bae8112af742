"""RebuiltWeightsMixin: rebuilt keys are not saved and not reported missing."""
import torch
from torch import nn

from ovd_ext.utils.rebuilt_weights import RebuiltWeightsMixin


class Net(RebuiltWeightsMixin, nn.Module):
    def __init__(self, omit: bool) -> None:
        super().__init__()
        self.copy = nn.Linear(2, 2)      # "built from a file"
        self.own = nn.Linear(2, 1)
        self.omit = omit

    def rebuilt_keys(self, prefix, keys):
        return {k for k in keys if self.omit and
                k.startswith(prefix + 'copy.')}


def test_rebuilt_keys_left_out_and_kept_on_load():
    torch.manual_seed(0)
    a = Net(omit=True)
    state = a.state_dict()
    assert sorted(state) == ['own.bias', 'own.weight']
    b = Net(omit=True)
    built = b.copy.weight.clone()
    b.load_state_dict(state, strict=True)         # nothing missing
    torch.testing.assert_close(b.own.weight, a.own.weight)
    torch.testing.assert_close(b.copy.weight, built)   # kept as built
    # nested under a parent the prefix applies
    parent = nn.Sequential(Net(omit=True))
    assert sorted(parent.state_dict()) == ['0.own.bias', '0.own.weight']
    # a module that rebuilds nothing saves everything
    assert len(Net(omit=False).state_dict()) == 4
