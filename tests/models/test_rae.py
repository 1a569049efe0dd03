"""RAE-L2: its loss terms, the decoder-only weight decay, training and serialisation."""

import keras
import numpy as np
import pytest

from keras_latent.models import RAE
from tests.helpers import TINY, gradients

pytestmark = pytest.mark.backend


def tiny_rae(**kwargs):
    return RAE(**TINY, seed=5, **kwargs)


def test_constants_are_the_official_mnist_configuration():
    model = tiny_rae()
    assert model.beta == 2e-4  # 1e-4 * mean(z^2) = 2e-4 * mean(z^2) / 2
    assert model.decoder_decay == 1e-7
    assert model.loss_names == ("reconstruction", "latent", "decay")


def test_loss_terms(random_images):
    model = tiny_rae(beta=0.5, decoder_decay=0.01)
    x = keras.ops.convert_to_tensor(random_images(6))
    outputs = model(x, training=True)
    total, terms = model.loss_terms(x, outputs, training=True)
    z = keras.ops.convert_to_numpy(outputs["latent"]).reshape(6, -1)
    assert float(terms["latent"]) == pytest.approx(np.mean(np.sum(z**2, 1)) / (2 * z.shape[1]))
    kernels = model.decoder_kernels()
    assert len(kernels) == len([layer for layer in model.decoder.layers if layer.weights])
    squares = sum(float(np.sum(keras.ops.convert_to_numpy(k) ** 2)) for k in kernels)
    assert float(terms["decay"]) == pytest.approx(squares, rel=1e-5)
    expected = float(terms["reconstruction"]) + 0.5 * terms["latent"] + 0.01 * terms["decay"]
    assert float(total) == pytest.approx(float(expected), rel=1e-5)


def test_weight_decay_acts_on_the_decoder_kernels_only(random_images):
    model = tiny_rae()
    x = keras.ops.convert_to_tensor(random_images(4))

    def decay():
        return model.loss_terms(x, model(x, training=True), training=True)[1]["decay"]

    kernels = model.decoder_kernels()
    others = [v for v in model.trainable_variables if all(v is not k for k in kernels)]
    for grad, kernel in zip(gradients(decay, kernels), kernels):
        np.testing.assert_allclose(grad, 2 * keras.ops.convert_to_numpy(kernel), rtol=1e-5)
    assert all(np.all(g == 0) for g in gradients(decay, others))


def test_fit_lowers_the_reconstruction_error(random_images):
    model = tiny_rae()
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    history = model.fit(random_images(64), batch_size=16, epochs=4, verbose=0)
    logs = history.history
    assert set(logs) >= {"loss", "reconstruction", "latent", "decay"}
    assert logs["reconstruction"][-1] < logs["reconstruction"][0]
    assert all(np.isfinite(v).all() for v in logs.values())


def test_keras_round_trip(tmp_path, random_images):
    model = tiny_rae(beta=1e-3, decoder_decay=1e-6)
    model.compile()
    model.fit_sampler(random_images(20), n_components=2, seed=1)  # RAE's Gaussian mixture
    model.save(tmp_path / "rae.keras")
    loaded = keras.models.load_model(tmp_path / "rae.keras")
    assert type(loaded) is RAE and loaded.get_config() == model.get_config()
    x = random_images(3, seed=7)
    np.testing.assert_allclose(loaded.reconstruct(x), model.reconstruct(x), atol=1e-6)
    np.testing.assert_allclose(loaded.sample(2), model.sample(2), atol=1e-5)


@pytest.mark.parametrize("kwargs", [dict(beta=-1.0), dict(decoder_decay=float("nan"))])
def test_bad_hyperparameters_are_refused(kwargs):
    with pytest.raises(ValueError):
        tiny_rae(**kwargs)
