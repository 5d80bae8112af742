"""check_number / check_numbers: ranges, NaN, types, with the setting
named."""
import pytest

from ovd_ext.utils.checks import check_number, check_numbers


def test_accepts_and_returns_values():
    assert check_number('tau', 0.8, 0, 1) == 0.8
    assert check_number('tau', 1, 0, 1) == 1                  # closed
    assert check_number('topk', 10.0, 1, integer=True) == 10
    assert isinstance(check_number('topk', 10.0, 1, integer=True), int)
    assert check_number('x', None, 0, optional=True) is None
    assert check_numbers('scales', [1, 1.5], 0, low_open=True) == (1, 1.5)


@pytest.mark.parametrize('kw, message', [
    (dict(value=-0.1, low=0, high=1), r'tau must be a number in \[0, 1\], '
     'got -0.1'),
    (dict(value=float('nan'), low=0, high=1), 'got nan'),
    (dict(value=float('inf')), r'in \(-inf, inf\), got inf'),
    (dict(value=0, low=0, low_open=True), r'\(0, inf\)'),
    (dict(value=1, high=1, high_open=True), r'\(-inf, 1\)'),
    (dict(value=True, low=0), 'got True'),
    (dict(value='0.5', low=0), "got '0.5'"),
    (dict(value=None, low=0), 'got None'),
    (dict(value=2.5, low=0, integer=True), 'must be an integer'),
])
def test_refuses_with_the_setting_named(kw, message):
    with pytest.raises(ValueError, match=message) as e:
        check_number('tau', where='cfg', **kw)
    assert str(e.value).startswith('cfg: tau must be')


def test_sequences():
    with pytest.raises(ValueError, match=r'scales\[1\] must be'):
        check_numbers('scales', [1.0, -1.0], 0, low_open=True)
    with pytest.raises(ValueError, match='needs at least 1'):
        check_numbers('scales', [], 0)
    with pytest.raises(ValueError, match='must be a list of numbers'):
        check_numbers('scales', '1.0', 0)
