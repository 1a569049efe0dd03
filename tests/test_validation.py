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


def test_check_step_removes_the_batch_statistics_and_passes_a_good_step():
    logs = {"loss": 0.5, "reconstruction": 0.5, "batch_check/images_min": -1.0,
            "batch_check/images_max": 1.0, "batch_check/images_excess": 0.0,
            "batch_check/images_nonfinite": 0.0}  # fmt: skip
    validation.check_step(logs, "step 1")
    assert logs == {"loss": 0.5, "reconstruction": 0.5}
    validation.check_step({}, "step 1")  # logs of a model without statistics
    validation.check_step(None, "step 1")


@pytest.mark.parametrize(
    "stats, message",
    [
        (dict(images_nonfinite=1.0), "images of step 7 contain NaN or infinite values"),
        (
            dict(images_min=0.0, images_max=255.0, images_excess=254.0),
            r"images of step 7 must lie in \[-1, 1\]; got values in \[0, 255\] \(raw 0-255",
        ),
        (
            dict(images_min=-1.5, images_max=0.0, images_excess=0.5),
            r"got values in \[-1.5, 0\]$",
        ),
        (
            dict(labels_min=-1.0, labels_max=3.0, labels_excess=1.0),
            r"labels of step 7 must lie in \[0, 4\); got \[-1, 3\]",
        ),
    ],
)
def test_bad_batch_statistics_raise_a_bad_batch_error(stats, message):
    with pytest.raises(validation.BadBatchError, match=message):
        validation.check_batch(stats, "step 7", num_classes=4)
    assert issubclass(validation.BadBatchError, ValueError)


def test_a_non_finite_loss_names_the_step_and_the_bad_terms():
    logs = {"loss": float("nan"), "reconstruction": 0.1, "critic": float("inf")}
    with pytest.raises(
        validation.NonFiniteLossError, match=r"at step 7: loss=nan, critic=inf\. Training stopped"
    ):
        validation.check_loss(logs, "step 7")
    validation.check_loss({"loss": 0.1, "other": float("nan")}, "step 7")  # the loss is finite
    assert issubclass(validation.NonFiniteLossError, ValueError)
