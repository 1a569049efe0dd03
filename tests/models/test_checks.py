"""Hyperparameter checks: numbers in their domain, clear errors otherwise; the checks of every
training step (a later bad batch, a non-finite loss)."""

import keras
import numpy as np
import pytest

from keras_latent.models import ACAI, Autoencoder, checks
from keras_latent.validation import BadBatchError, NonFiniteLossError
from tests.helpers import TINY


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


# ------------------------------------------------------------- per-step checks during fit
# A later batch of a stream (PyDataset or generator) is checked inside the training step on
# every backend: fit stops at that step with a clear error (keras_latent.callbacks.StepCheck).


class BadLaterBatch(keras.utils.PyDataset):
    """Four batches of 4 images (with labels 0-3 when ``labels``); batch ``bad`` is broken:
    "nan" (one NaN pixel), "pixels" (0-255 values), "labels" (a label 10)."""

    def __init__(self, kind, bad=2, labels=False):
        super().__init__()
        self.kind, self.bad, self.labels = kind, bad, labels or kind == "labels"

    def __len__(self):
        return 4

    def __getitem__(self, index):
        x = np.random.default_rng(index).uniform(-1, 1, (4, 32, 32, 1)).astype("float32")
        y = np.array([0, 1, 2, 3])
        if index == self.bad:
            if self.kind == "nan":
                x[1, 3, 3, 0] = np.nan
            elif self.kind == "pixels":
                x = (x + 1) * 127.5
            elif self.kind == "labels":
                y = np.array([0, 1, 2, 10])
        return (x, y) if self.labels else x


class Steps(keras.callbacks.Callback):
    """Records, after each training step, its logs and whether every weight is finite."""

    def __init__(self):
        super().__init__()
        self.logs, self.finite = [], []

    def on_train_batch_end(self, batch, logs=None):
        self.logs.append(dict(logs))
        self.finite.append(all(np.isfinite(w).all() for w in self.model.get_weights()))


BAD_BATCH_MESSAGES = {
    "nan": r"images of training step 3 \(epoch 1, batch 3\) contain NaN or infinite values",
    "pixels": r"images of training step 3 .* must lie in \[-1, 1\]; got values in \[0\.0\d*, "
    r"254\.\d*\] \(raw 0-255 pixels\? use x / 127\.5 - 1\)",
    "labels": r"labels of training step 3 \(epoch 1, batch 3\) must lie in \[0, 10\); "
    r"got \[0, 10\]",
}


def tiny(model_class=Autoencoder, **kwargs):
    return model_class(**TINY, seed=1, **kwargs)


@pytest.mark.backend
@pytest.mark.parametrize("kind", ["nan", "pixels", "labels"])
def test_a_bad_later_batch_of_a_py_dataset_stops_fit_at_its_step(kind):
    model = tiny(num_classes=10)
    steps = Steps()
    with pytest.raises(BadBatchError, match=BAD_BATCH_MESSAGES[kind]):
        model.fit(BadLaterBatch(kind), epochs=1, shuffle=False, verbose=0, callbacks=[steps])
    assert len(steps.logs) == 2 and all(steps.finite)  # later callbacks never saw step 3


@pytest.mark.backend
@pytest.mark.parametrize("kind", ["nan", "pixels", "labels"])
def test_a_bad_later_batch_of_a_generator_stops_fit(kind):
    stream = BadLaterBatch(kind)
    batches = (stream[i] if stream.labels else (stream[i],) for i in range(len(stream)))
    with pytest.raises(BadBatchError, match=BAD_BATCH_MESSAGES[kind]):
        tiny(num_classes=10).fit(batches, steps_per_epoch=4, shuffle=False, verbose=0)


@pytest.mark.backend
def test_acai_stops_at_a_later_batch_of_raw_pixels():
    with pytest.raises(BadBatchError, match=BAD_BATCH_MESSAGES["pixels"]):
        tiny(ACAI).fit(BadLaterBatch("pixels"), epochs=1, shuffle=False, verbose=0)


@pytest.mark.backend
def test_a_non_finite_loss_stops_fit_at_its_step(random_images):
    model = tiny()
    model.compile(optimizer=keras.optimizers.SGD(1e30))  # diverges at the second step
    steps = Steps()
    message = r"non-finite loss at training step 2 \(epoch 1, batch 2\): loss=(nan|inf), "
    with pytest.raises(NonFiniteLossError, match=message + r"reconstruction=(nan|inf)"):
        model.fit(random_images(16), batch_size=4, verbose=0, callbacks=[steps])
    assert len(steps.logs) == 1 and all(steps.finite)


@pytest.mark.backend
def test_steps_are_counted_across_fit_calls_and_epochs():
    """The step is the optimizer's iteration count (a resumed run's global step)."""
    model = tiny()
    model.fit(BadLaterBatch(None), epochs=2, shuffle=False, verbose=0)  # 8 steps
    with pytest.raises(BadBatchError, match=r"training step 11 \(epoch 1, batch 3\)"):
        model.fit(BadLaterBatch("pixels"), epochs=1, shuffle=False, verbose=0)
    with pytest.raises(BadBatchError, match=r"training step 14 \(epoch 5, batch 3\)"):
        model.fit(BadLaterBatch("pixels"), initial_epoch=4, epochs=5, shuffle=False, verbose=0)


@pytest.mark.backend
def test_clean_training_logs_no_batch_statistics(random_images):
    model = tiny(num_classes=4)
    steps = Steps()
    history = model.fit(BadLaterBatch(None, labels=True), epochs=2, verbose=0, callbacks=[steps])
    names = {"loss", "reconstruction", "probe_loss", "probe_accuracy"}
    assert set(history.history) == names and all(set(logs) == names for logs in steps.logs)
    logs = model.train_on_batch(random_images(4), np.array([0, 1, 2, 3]), return_dict=True)
    assert set(logs) == names
    assert len(model.train_on_batch(random_images(4), np.array([0, 1, 2, 3]))) == 4
    # without labels, the probe's metrics are not logged (issue 26)
    assert set(model.evaluate(random_images(4), verbose=0, return_dict=True)) == {
        "loss",
        "reconstruction",
    }
    labelled = model.evaluate(random_images(4), np.array([0, 1, 2, 3]), verbose=0, return_dict=True)
    assert set(labelled) == names


@pytest.mark.backend
def test_train_on_batch_refuses_raw_pixels(random_images):
    model = tiny()
    model.compile()
    with pytest.raises(BadBatchError, match=r"images of train_on_batch must lie in \[-1, 1\]"):
        model.train_on_batch((random_images(4) + 1) * 127.5)
