"""Custom Keras layers of keras-latent; each serialises through ``get_config``."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_latent")
class SpatialMean(keras.layers.Layer):
    """Mean over every axis but the batch: ``(n, H, W, C) -> (n,)``.

    The ACAI critic's read-out: an unbounded scalar per example.
    """

    def call(self, inputs):
        return ops.mean(inputs, axis=tuple(range(1, len(inputs.shape))))

    def compute_output_shape(self, input_shape):
        return (input_shape[0],)
