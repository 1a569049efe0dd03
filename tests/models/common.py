"""Helpers shared by the baseline models' tests: recorded sub-network inputs, a short fit on
lines, a .keras round trip."""

import keras
import numpy as np

from keras_latent.datasets.lines import draw


def lines(n, seed=0):
    """``n`` lines at random angles, (n, 32, 32, 1) in [-1, 1]."""
    return draw(np.random.default_rng(seed).uniform(0, 2 * np.pi, n))


def record_inputs(network, monkeypatch):
    """Record every input of the sub-network ``network`` (its ``call`` wrapped: torch forbids
    replacing the sub-module itself); returns the list the inputs are appended to."""
    seen = []
    call = network.call

    def recording(x, *args, **kwargs):
        seen.append(keras.ops.convert_to_numpy(x))
        return call(x, *args, **kwargs)

    monkeypatch.setattr(network, "call", recording)
    return seen


def fit_on_lines(model, learning_rate=3e-3, epochs=4, n=64, batch_size=8):
    """``model.fit`` on ``n`` lines (``epochs * n / batch_size`` steps); the history dict.

    32 steps at 3e-3 halve the plain autoencoder's error (see ``test_base``).
    """
    model.compile(optimizer=keras.optimizers.Adam(learning_rate))
    history = model.fit(lines(n), batch_size=batch_size, epochs=epochs, verbose=0)
    logs = history.history
    assert all(np.isfinite(v).all() for v in logs.values()), logs
    return logs


def round_trip(model, path, x, check=None):
    """Save to ``path`` (.keras), load; check config, outputs, ``check(loaded)`` if given, and
    that the loaded model is compiled and trains on. Returns the loaded model."""
    model.compile()
    model.optimizer.build(model.trainable_variables)  # saved with its (fresh) Adam state
    model.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded) is type(model)
    assert loaded.get_config() == model.get_config()
    np.testing.assert_allclose(loaded.reconstruct(x), model.reconstruct(x), atol=1e-5)
    np.testing.assert_allclose(loaded.encode(x), model.encode(x), atol=1e-5)
    if check is not None:
        check(loaded)
    assert loaded.compiled
    loaded.fit(x, batch_size=len(x), epochs=1, verbose=0)
    return loaded
