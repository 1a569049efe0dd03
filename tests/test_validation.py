import numpy as np
import pytest

from keras_latent import validation
from keras_latent.datasets.lines import LinesStream


def test_good_images_pass_as_float32():
    x = validation.check_images(np.zeros((2, 4, 4, 1), "float64"), (4, 4, 1))
    assert x.dtype == np.float32 and x.shape == (2, 4, 4, 1)


def test_rounding_overshoot_is_tolerated_but_raw_pixels_are_not():
    validation.check_images(np.full((1, 4, 4, 1), 1.0005), (4, 4, 1))
    with pytest.raises(ValueError, match="127.5"):
        validation.check_images(np.full((1, 4, 4, 1), 200, "uint8"), (4, 4, 1))
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        validation.check_images(np.full((1, 4, 4, 1), 1.5), (4, 4, 1))


def test_nan_count_is_reported():
    x = np.zeros((5, 4, 4, 1))
    x[[1, 3], 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="2 of 5 images"):
        validation.check_images(x, (4, 4, 1))


def test_labels():
    np.testing.assert_array_equal(validation.check_labels([[1], [0]], 2, 3), [1, 0])
    np.testing.assert_array_equal(validation.check_labels(np.array([1.0, 2.0]), 2, 3), [1, 2])
    with pytest.raises(ValueError, match="integer class"):
        validation.check_labels(np.array([0.5, 1.0]), 2, 3)


def test_streams_are_checked_on_their_first_batch():
    batch = validation.first_batch(LinesStream(batch_size=3, steps_per_epoch=2, labels=True))
    x, y, w = validation.split_batch(batch)
    assert x.shape == (3, 32, 32, 1) and y.shape == (3,) and w is None
    assert validation.first_batch(iter([1, 2])) is None  # generators are not consumed
    assert validation.split_batch(np.zeros(2))[1] is None
