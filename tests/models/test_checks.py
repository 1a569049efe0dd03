"""Hyperparameter checks: numbers in their domain, clear errors otherwise."""

import pytest

from keras_latent.models import checks


def test_real_accepts_numbers_in_the_interval():
    assert checks.real("p", 1, low=0.0, high=1.0, low_open=True) == 1.0
    assert isinstance(checks.real("p", 1), float)
    assert checks.real("w", 0.0, low=0.0) == 0.0


@pytest.mark.parametrize(
    "value, kwargs, message",
    [
        (0.0, dict(low=0.0, high=1.0, low_open=True), r"p must lie in \(0, 1\], got 0"),
        (1.0, dict(low=0.0, high=1.0, high_open=True), r"p must lie in \[0, 1\), got 1"),
        (-2.0, dict(low=0.0), r"p must lie in \[0, inf\], got -2"),
        (float("nan"), dict(), "p must be finite"),
        (float("inf"), dict(), "p must be finite"),
    ],
)
def test_real_refuses_values_outside_the_domain(value, kwargs, message):
    with pytest.raises(ValueError, match=message):
        checks.real("p", value, **kwargs)


@pytest.mark.parametrize("value", ["0.5", None, True, [1.0]])
def test_real_refuses_non_numbers(value):
    with pytest.raises(TypeError, match="p must be a real number"):
        checks.real("p", value)


def test_integer_and_sequences():
    assert checks.integer("k", 3) == 3
    with pytest.raises(ValueError, match="k must be an integer >= 1, got 0"):
        checks.integer("k", 0)
    with pytest.raises(TypeError, match="k must be an integer"):
        checks.integer("k", 2.0)
    with pytest.raises(TypeError, match="k must be an integer"):
        checks.integer("k", True)
    assert checks.integers("sizes", [100, 100]) == (100, 100)
    with pytest.raises(ValueError, match="sizes must not be empty"):
        checks.integers("sizes", [])
    with pytest.raises(TypeError, match="sequence of integers"):
        checks.integers("sizes", 100)
    assert checks.reals("scales", [0.5, 2], low=0.0, low_open=True) == (0.5, 2.0)
    with pytest.raises(ValueError, match="scales entries"):
        checks.reals("scales", [1.0, -1.0], low=0.0, low_open=True)
