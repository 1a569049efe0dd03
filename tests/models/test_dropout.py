"""Dropout autoencoder: dropout on the latent only in training, training, serialisation."""

import keras
import numpy as np
import pytest

from keras_latent.models import DropoutAutoencoder
from tests.helpers import TINY
from tests.models.common import fit_on_lines, lines, record_inputs, round_trip

pytestmark = pytest.mark.backend


def tiny_dropout(**kwargs):
    return DropoutAutoencoder(**TINY, seed=2, **kwargs)


def test_keep_probability_is_the_papers():
    assert tiny_dropout().keep_probability == 0.5


def test_training_drops_half_the_latent_and_rescales_the_rest(monkeypatch):
    model = tiny_dropout()
    x = keras.ops.convert_to_tensor(lines(8))
    seen = record_inputs(model.decoder, monkeypatch)
    outputs = model(x, training=True)
    z = keras.ops.convert_to_numpy(outputs["latent"])
    (z_train,) = seen
    kept = z_train != 0
    assert 0.45 < kept.mean() < 0.55  # 2048 latent values, keep probability 0.5
    np.testing.assert_allclose(z_train[kept], 2.0 * z[kept], rtol=1e-5)  # z / keep_probability
    np.testing.assert_allclose(z, model.encode(lines(8)), atol=1e-5)  # the probe's code: whole


def test_inference_is_deterministic_and_uses_the_whole_code():
    model = tiny_dropout()
    x = lines(8)
    inference = keras.ops.convert_to_numpy(model(x, training=False)["reconstruction"])
    np.testing.assert_allclose(model.reconstruct(x), inference, atol=1e-5)
    np.testing.assert_allclose(model.reconstruct(x), model.reconstruct(x))
    first = keras.ops.convert_to_numpy(model(x, training=True)["reconstruction"])
    second = keras.ops.convert_to_numpy(model(x, training=True)["reconstruction"])
    assert not np.allclose(first, inference) and not np.allclose(first, second)


def test_keep_probability_one_is_the_plain_autoencoder():
    model = tiny_dropout(keep_probability=1.0)
    x = lines(4)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(model(x, training=True)["reconstruction"]),
        model.reconstruct(x),
        atol=1e-5,
    )


def test_fit_on_lines_lowers_the_reconstruction_error():
    logs = fit_on_lines(tiny_dropout())
    assert logs["reconstruction"][-1] < 0.7 * logs["reconstruction"][0]


def test_keras_round_trip(tmp_path):
    loaded = round_trip(tiny_dropout(keep_probability=0.8), tmp_path / "dropout.keras", lines(8))
    assert loaded.keep_probability == 0.8


@pytest.mark.parametrize("keep", [0.0, -0.1, 1.5, float("nan")])
def test_keep_probability_outside_zero_one_is_refused(keep):
    with pytest.raises(ValueError, match="keep_probability"):
        tiny_dropout(keep_probability=keep)


def test_keep_probability_must_be_a_number():
    with pytest.raises(TypeError, match="keep_probability"):
        tiny_dropout(keep_probability="0.5")
