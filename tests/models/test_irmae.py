"""IRMAE: the bias-free linear layers, the code they produce, training and serialisation."""

import keras
import numpy as np
import pytest

from keras_latent.models import IRMAE
from tests.helpers import TINY

pytestmark = pytest.mark.backend


def tiny_irmae(**kwargs):
    return IRMAE(**TINY, seed=6, **kwargs)


def test_linear_layers_are_square_bias_free_and_torch_initialised():
    model = tiny_irmae()
    assert model.linear_layers == 8 and model.loss_names == ("reconstruction",)
    dense = [layer for layer in model.linear.layers if isinstance(layer, keras.layers.Dense)]
    assert len(dense) == 8
    for layer in dense:
        assert not layer.use_bias and len(layer.weights) == 1
        kernel = keras.ops.convert_to_numpy(layer.kernel)
        assert kernel.shape == (256, 256)
        bound = 1 / np.sqrt(256)  # uniform on [-1/sqrt(d), 1/sqrt(d)]
        assert np.abs(kernel).max() <= bound and np.abs(kernel).max() > 0.95 * bound
        assert kernel.std() == pytest.approx(bound / np.sqrt(3), rel=0.02)


def test_the_code_is_the_linear_product_of_the_encoder_output(random_images):
    model = tiny_irmae(linear_layers=3)
    x = random_images(5)
    inner = model._map_batches(model.encoder, x, 256).reshape(5, -1)
    product = inner
    for layer in model.linear.layers:
        if isinstance(layer, keras.layers.Dense):
            product = product @ keras.ops.convert_to_numpy(layer.kernel)
    z = model.encode(x)
    assert z.shape == (5, *model.latent_shape)
    np.testing.assert_allclose(z.reshape(5, -1), product, rtol=1e-4, atol=1e-6)
    outputs = model(x)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(outputs["latent"]), z, atol=1e-6)
    np.testing.assert_allclose(model.reconstruct(x), model.decode(z), atol=1e-6)


def test_fit_trains_every_linear_layer_on_the_plain_error(random_images):
    model = tiny_irmae(linear_layers=2)
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    before = [keras.ops.convert_to_numpy(v).copy() for v in model.linear.weights]
    history = model.fit(random_images(64), batch_size=16, epochs=4, verbose=0)
    logs = history.history
    assert logs["reconstruction"][-1] < logs["reconstruction"][0]
    np.testing.assert_allclose(logs["loss"], logs["reconstruction"], rtol=1e-5)
    after = [keras.ops.convert_to_numpy(v) for v in model.linear.weights]
    assert all(not np.allclose(a, b) for a, b in zip(before, after))


def test_keras_round_trip(tmp_path, random_images):
    model = tiny_irmae(linear_layers=4)
    model.compile()
    model.save(tmp_path / "irmae.keras")
    loaded = keras.models.load_model(tmp_path / "irmae.keras")
    assert type(loaded) is IRMAE and loaded.get_config() == model.get_config()
    x = random_images(3)
    np.testing.assert_allclose(loaded.encode(x), model.encode(x), atol=1e-6)
    np.testing.assert_allclose(loaded.reconstruct(x), model.reconstruct(x), atol=1e-6)
    loaded.fit(random_images(8), batch_size=8, epochs=1, verbose=0)


@pytest.mark.parametrize("value, error", [(0, ValueError), (2.0, TypeError), (True, TypeError)])
def test_bad_layer_counts_are_refused(value, error):
    with pytest.raises(error):
        tiny_irmae(linear_layers=value)
