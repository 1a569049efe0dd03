import keras
import numpy as np

from keras_latent.layers import SpatialMean


def test_spatial_mean_and_serialisation():
    layer = SpatialMean(name="m")
    x = np.arange(2 * 2 * 2 * 3, dtype="float32").reshape(2, 2, 2, 3)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(x)), x.mean(axis=(1, 2, 3)))
    assert layer.compute_output_shape((None, 2, 2, 3)) == (None,)
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert isinstance(restored, SpatialMean) and restored.name == "m"
