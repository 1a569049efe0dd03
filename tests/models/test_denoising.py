"""Denoising autoencoder: unclipped Gaussian input noise only in training, clean targets."""

import keras
import numpy as np
import pytest

from keras_latent.models import DenoisingAutoencoder
from tests.helpers import TINY
from tests.models.common import fit_on_lines, lines, record_inputs, round_trip

pytestmark = pytest.mark.backend


def tiny_denoising(**kwargs):
    return DenoisingAutoencoder(**TINY, seed=4, **kwargs)


def test_noise_is_the_papers():
    assert tiny_denoising().noise_std == 1.0


def test_training_encodes_the_image_plus_unclipped_unit_noise(monkeypatch):
    model = tiny_denoising()
    x = lines(16)
    seen = record_inputs(model.encoder, monkeypatch)
    model(keras.ops.convert_to_tensor(x), training=True)
    (noisy,) = seen  # without a probe the clean image is not encoded
    noise = noisy - x
    assert noise.std() == pytest.approx(1.0, abs=0.03)  # 16,384 draws
    assert abs(noise.mean()) < 0.03
    assert noisy.max() > 2.0 and noisy.min() < -2.0  # not clipped to [-1, 1]


def test_the_loss_compares_the_noisy_reconstruction_with_the_clean_image():
    model = tiny_denoising()
    x = keras.ops.convert_to_tensor(lines(8))
    outputs = model(x, training=True)
    _, logs = model.loss_terms(x, outputs, training=True)
    expected = np.mean((lines(8) - keras.ops.convert_to_numpy(outputs["reconstruction"])) ** 2)
    assert float(logs["reconstruction"]) == pytest.approx(expected, rel=1e-5)


def test_inference_adds_no_noise():
    model = tiny_denoising()
    x = lines(8)
    inference = keras.ops.convert_to_numpy(model(x, training=False)["reconstruction"])
    np.testing.assert_allclose(model.reconstruct(x), inference, atol=1e-5)
    np.testing.assert_allclose(model.reconstruct(x), model.reconstruct(x))
    training = keras.ops.convert_to_numpy(model(x, training=True)["reconstruction"])
    assert not np.allclose(training, inference, atol=1e-3)


def test_the_probe_sees_the_clean_code(monkeypatch):
    model = tiny_denoising(num_classes=3)
    x = lines(4)
    outputs = model(keras.ops.convert_to_tensor(x), training=True)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(outputs["latent"]), model.encode(x), atol=1e-5
    )


def test_zero_noise_is_the_plain_autoencoder():
    model = tiny_denoising(noise_std=0.0)
    x = lines(4)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(model(x, training=True)["reconstruction"]),
        model.reconstruct(x),
        atol=1e-5,
    )


def test_fit_on_lines_lowers_the_reconstruction_error():
    logs = fit_on_lines(tiny_denoising())
    assert logs["reconstruction"][-1] < 0.7 * logs["reconstruction"][0]


def test_keras_round_trip(tmp_path):
    loaded = round_trip(tiny_denoising(noise_std=0.5), tmp_path / "denoising.keras", lines(8))
    assert loaded.noise_std == 0.5


@pytest.mark.parametrize("noise", [-1.0, float("inf"), float("nan")])
def test_negative_or_infinite_noise_is_refused(noise):
    with pytest.raises(ValueError, match="noise_std"):
        tiny_denoising(noise_std=noise)


def test_noise_must_be_a_number():
    with pytest.raises(TypeError, match="noise_std"):
        tiny_denoising(noise_std=None)
