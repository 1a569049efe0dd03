"""Checks on model hyperparameters: a clear error at construction, never a backend trace.

Numbers must be real and finite (``TypeError`` for a string, a bool or None; ``ValueError`` for
NaN, infinity or a value outside the domain); counts must be integers.
"""

import math
import numbers


def real(name, value, low=None, high=None, low_open=False, high_open=False):
    """``float(value)`` if it lies in the interval given by ``low``/``high``, else an error.

    ``low_open``/``high_open`` exclude the bound itself, e.g. ``real("p", p, 0, 1, True)`` is
    the interval (0, 1].
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        raise ValueError(f"{name} must lie in {left}{lo}, {hi}{right}, got {value:g}")
    return value


def integer(name, value, minimum=1):
    """``int(value)`` if it is an integer >= ``minimum``, else an error."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return int(value)


def integers(name, values, minimum=1):
    """A non-empty tuple of integers >= ``minimum`` (e.g. layer sizes), else an error."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise TypeError(f"{name} must be a sequence of integers, got {values!r}")
    values = tuple(integer(f"{name} entries", v, minimum) for v in values)
    if not values:
        raise ValueError(f"{name} must not be empty")
    return values


def reals(name, values, low=None, low_open=False):
    """A non-empty tuple of finite reals above ``low``, else an error."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise TypeError(f"{name} must be a sequence of numbers, got {values!r}")
    values = tuple(real(f"{name} entries", v, low=low, low_open=low_open) for v in values)
    if not values:
        raise ValueError(f"{name} must not be empty")
    return values
