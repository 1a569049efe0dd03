import keras
import numpy as np
import pytest

from keras_latent.layers import Conv2D, SpatialMean
from tests.helpers import gradients


def test_spatial_mean_and_serialisation():
    layer = SpatialMean(name="m")
    x = np.arange(2 * 2 * 2 * 3, dtype="float32").reshape(2, 2, 2, 3)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(x)), x.mean(axis=(1, 2, 3)))
    assert layer.compute_output_shape((None, 2, 2, 3)) == (None,)
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert isinstance(restored, SpatialMean) and restored.name == "m"


@pytest.mark.backend
@pytest.mark.parametrize("filters", [1, 3])
def test_conv2d_matches_keras_and_trains_on_a_batch_of_one(filters):
    """Same values and gradients as Keras' Conv2D; a batch of one backpropagates on torch."""
    ours = Conv2D(filters, 3, padding="same")
    reference = keras.layers.Conv2D(filters, 3, padding="same")
    x = np.random.default_rng(0).normal(size=(1, 8, 8, 4)).astype("float32")
    ours.build(x.shape), reference.build(x.shape)
    for a, b in zip(reference.weights, ours.weights):
        a.assign(b)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(ours(x)), keras.ops.convert_to_numpy(reference(x)), atol=1e-5
    )
    grads = gradients(lambda: keras.ops.mean(keras.ops.square(ours(x))), ours.trainable_weights)
    # Keras' own layer cannot backpropagate a batch of one on torch: take its gradients on a
    # batch of two whose loss sees only the first image.
    x2 = np.concatenate([x, x])
    expected = gradients(
        lambda: keras.ops.mean(keras.ops.square(reference(x2)[:1])), reference.trainable_weights
    )
    for g, e in zip(grads, expected):
        np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-6)
    restored = Conv2D.from_config(ours.get_config())
    assert type(restored) is Conv2D and restored.filters == filters
