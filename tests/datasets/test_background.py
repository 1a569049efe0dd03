"""keras_latent.datasets.background: warn on images far from the training background."""

import warnings

import numpy as np
import pytest

from keras_latent import datasets
from keras_latent.datasets import BackgroundWarning, check_background
from keras_latent.datasets.background import BACKGROUNDS, border_level, expected_background
from keras_latent.datasets.preprocess import preprocess


def digits(n=4, seed=0):
    """Synthetic MNIST-like images: a light stroke (+1) on black (-1), 32x32x1."""
    rng = np.random.default_rng(seed)
    x = np.full((n, 32, 32, 1), -1.0, dtype=np.float32)
    for i in range(n):
        col = rng.integers(10, 22)
        x[i, 6:26, col : col + 3, 0] = 1.0
    return x


def no_warning(x, source, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error", BackgroundWarning)
        return check_background(x, source, **kwargs)


def test_border_level_is_the_median_of_the_outer_ring():
    x = np.full((2, 32, 32, 3), 0.5, dtype=np.float32)
    x[:, 2:-2, 2:-2, :] = -1.0  # the 2-pixel ring of a 32x32 image is its border
    x[1, 0, :, :] = -1.0  # one row of 32 of the 240 ring pixels: the median stays
    np.testing.assert_array_equal(border_level(x), [0.5, 0.5])
    assert border_level(x[0]).shape == ()
    big = np.zeros((1, 64, 64, 1), dtype=np.float32)
    big[:, :4], big[:, -4:], big[:, :, :4], big[:, :, -4:] = 1, 1, 1, 1  # 64 // 16 = 4 pixels
    assert border_level(big)[0] == 1.0
    with pytest.raises(ValueError, match=r"shape \(n, H, W, C\)"):
        border_level(np.zeros((32, 32)))


def test_light_on_dark_passes_and_inverted_images_warn_with_the_fix():
    x = digits()
    assert not no_warning(x, "mnist").any()
    with pytest.warns(BackgroundWarning, match="look inverted") as caught:
        far = check_background(-x, "mnist", names=["a.png", "b.png", "c.png", "d.png"])
    assert far.all()
    message = str(caught[0].message)
    assert "a.png, b.png, c.png, d.png" in message and "+1.00" in message
    assert "x = -x" in message and "255 - pixels" in message and "--invert" in message
    mixed = np.concatenate([x[:2], -x[2:]])
    with pytest.warns(BackgroundWarning, match="image 2, image 3") as caught:
        assert check_background(mixed, "mnist").tolist() == [False, False, True, True]
    assert "image 0" not in str(caught[0].message)


def test_the_threshold_is_one_either_side_of_the_training_level():
    x = digits()
    x[x < 0] = 0.2  # light grey: 1.2 from -1
    with pytest.warns(BackgroundWarning, match="the background is light .border median .0.20"):
        check_background(x, "mnist")
    x[x == 0.2] = -0.1  # 0.9 from -1: near enough
    assert not no_warning(x, "mnist").any()
    x = np.full((2, 32, 32, 1), -0.5, dtype=np.float32)  # dark grey, for a white-background model
    with pytest.warns(BackgroundWarning, match="the background is dark .* have a light one"):
        assert check_background(x, 1.0).all()
    assert not no_warning(-x, 1.0).any()


def test_where_the_training_background_comes_from():
    assert expected_background("mnist") == expected_background("lines") == -1.0
    assert expected_background("svhn") is None and expected_background(None) is None
    assert expected_background({"dataset": {"data": "fashion_mnist"}}) == -1.0
    assert expected_background({"dataset": {"data": None, "background": 1}}) == 1.0
    assert expected_background({"dataset": {"data": None}}) is None
    assert expected_background({}) is None
    assert expected_background("acai_mnist") == -1.0  # a shipped preset: its metadata
    assert expected_background("acai_cifar10") is None
    x = -digits()
    assert not no_warning(x, "cifar10").any()  # no uniform background: nothing checked
    assert not no_warning(x, {"dataset": {"name": "my shapes", "data": None}}).any()
    with pytest.warns(BackgroundWarning):
        check_background(x, "acai_mnist")


def test_the_recorded_backgrounds_are_those_of_the_data():
    """Padding makes every MNIST-like border -1 (random raw pixels here); lines are drawn on
    -1. Real MNIST: see the next test."""
    raw = np.random.default_rng(0).integers(0, 256, (64, 28, 28, 1), dtype=np.uint8)
    for name in ("mnist", "fashion_mnist"):
        assert np.all(border_level(preprocess(name, raw)) == BACKGROUNDS[name])
    lines, _ = datasets.load("lines", "test")
    assert np.all(border_level(lines) == BACKGROUNDS["lines"])
    assert not no_warning(lines, "lines").any()


def test_real_mnist_digits_pass_and_their_inverses_warn(mnist_dir):
    x, _ = datasets.load("mnist", "test", data_dir=mnist_dir)
    assert np.all(border_level(x) == BACKGROUNDS["mnist"])
    assert not no_warning(x, "mnist").any()
    # As the files a user would draw: the 28x28 digit itself (its own border), no padding.
    assert not no_warning(x[:, 2:-2, 2:-2], "mnist").any()
    with pytest.warns(BackgroundWarning, match="look inverted") as caught:
        assert check_background(-x, "mnist").all()
    assert "and 9990 more" in str(caught[0].message)
