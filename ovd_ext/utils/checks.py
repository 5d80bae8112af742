"""Checks of numeric settings where they are parsed, with errors that name
the setting, the value and the allowed range (NaN and infinities are
refused unless a bound is infinite)."""
from __future__ import annotations

import math
from numbers import Real
from typing import Sequence


def _interval(low: float | None, high: float | None, low_open: bool,
              high_open: bool) -> str:
    lo = '-inf' if low is None else f'{low:g}'
    hi = 'inf' if high is None else f'{high:g}'
    return (('(' if low_open or low is None else '[') + f'{lo}, {hi}'
            + (')' if high_open or high is None else ']'))


def check_number(name: str, value, low: float | None = None,
                 high: float | None = None, *, low_open: bool = False,
                 high_open: bool = False, integer: bool = False,
                 optional: bool = False,
                 where: str = '') -> float | int | None:
    """Return ``value`` (an ``int`` when ``integer``) if it is a finite
    number in the interval ``low..high`` (``low_open`` / ``high_open``:
    bound excluded; None: unbounded); ``optional`` lets None through.

    Raises:
        ValueError: ``"<where>: <name> must be ... in [low, high], got v"``.
    """
    prefix = f'{where}: ' if where else ''
    if value is None and optional:
        return None
    kind = 'an integer' if integer else 'a number'
    rng = _interval(low, high, low_open, high_open)
    error = ValueError(f'{prefix}{name} must be {kind} in {rng}, got '
                       f'{value!r}')
    if isinstance(value, bool) or not isinstance(value, Real):
        raise error
    v = float(value)
    if (math.isnan(v) or math.isinf(v)
            or (low is not None and (v <= low if low_open else v < low))
            or (high is not None and (v >= high if high_open else v > high))
            or (integer and not v.is_integer())):
        raise error
    return int(v) if integer else value


def check_numbers(name: str, values: Sequence, low: float | None = None,
                  high: float | None = None, *, low_open: bool = False,
                  high_open: bool = False, integer: bool = False,
                  min_len: int = 1, where: str = '') -> tuple:
    """:func:`check_number` on every item of a sequence of at least
    ``min_len`` items; returns them as a tuple."""
    prefix = f'{where}: ' if where else ''
    if isinstance(values, (str, bytes)) or not hasattr(values, '__len__'):
        raise ValueError(f'{prefix}{name} must be a list of numbers, got '
                         f'{values!r}')
    if len(values) < min_len:
        raise ValueError(f'{prefix}{name} needs at least {min_len} value(s), '
                         f'got {list(values)!r}')
    return tuple(check_number(f'{name}[{i}]', v, low, high,
                              low_open=low_open, high_open=high_open,
                              integer=integer, where=where)
                 for i, v in enumerate(values))
