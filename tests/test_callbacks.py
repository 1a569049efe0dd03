import time

import keras
import numpy as np
import pytest

from keras_latent import training
from keras_latent.callbacks import FitTimer, StepCheck, with_step_check
from keras_latent.datasets import ArrayStream
from keras_latent.models import Autoencoder
from keras_latent.validation import BadBatchError, NonFiniteLossError
from tests.helpers import TINY


class Sleep(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        time.sleep(0.2)


def test_fit_timer_measures_the_time_inside_fit():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    timer = FitTimer()
    start = time.perf_counter()
    model.fit(np.zeros((8, 2)), np.zeros((8, 1)), epochs=2, verbose=0, callbacks=[Sleep(), timer])
    outside = time.perf_counter() - start
    assert 0.4 <= timer.seconds <= outside


def test_with_step_check_puts_one_check_first():
    timer = FitTimer()
    assert [type(c) for c in with_step_check(None, None)] == [StepCheck]
    assert [type(c) for c in with_step_check(timer, None)] == [StepCheck, FitTimer]
    checked = with_step_check([timer], None)
    assert [type(c) for c in checked] == [StepCheck, FitTimer]
    assert with_step_check(checked, None) == checked  # not twice
    listed = keras.callbacks.CallbackList([timer])
    assert with_step_check(listed, None) is listed
    assert [type(c) for c in listed.callbacks] == [StepCheck, FitTimer]


@pytest.mark.backend
@pytest.mark.parametrize("bad", ["loss", "images"])
def test_a_bad_step_leaves_the_last_good_checkpoint(tmp_path, bad):
    """training.train checkpoints every step; the step with a NaN loss or a NaN image raises
    before its checkpoint, so the checkpoint on disk is the previous step's, with finite
    weights."""
    x = np.random.default_rng(0).uniform(-1, 1, (16, 32, 32, 1)).astype("float32")
    if bad == "images":
        x[9, 0, 0, 0] = np.nan  # batch 2 of 4: step 3
    stream = ArrayStream(x, batch_size=4, shuffle=False)
    model = Autoencoder(**TINY, seed=1)
    model.compile(optimizer=keras.optimizers.SGD(1e30 if bad == "loss" else 1e-3))
    error = NonFiniteLossError if bad == "loss" else BadBatchError
    with pytest.raises(error, match=f"training step {2 if bad == 'loss' else 3} "):
        training.train(model, stream, tmp_path, steps=8, checkpoint_every=1, verbose=0)
    state = training.read_checkpoint(tmp_path)
    assert state["step"] == (1 if bad == "loss" else 2)
    saved = Autoencoder(**TINY, seed=1)
    saved.compile(optimizer=keras.optimizers.SGD())
    training.restore(saved, tmp_path, state)
    assert all(np.isfinite(w).all() for w in saved.get_weights())
