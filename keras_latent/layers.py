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


@keras.saving.register_keras_serializable(package="keras_latent")
class Conv2D(keras.layers.Conv2D):
    """``keras.layers.Conv2D`` that also trains on a batch of one under PyTorch.

    PyTorch's CPU ``conv2d`` backward (2.13) fails with "slow_conv2d: grad_weight must be
    contiguous" for a batch of one when the layer has a single output channel, such as a
    decoder's last layer for greyscale images. On the torch backend a single-filter layer
    therefore convolves with its kernel repeated along the output axis and keeps the first
    output channel: the same values and gradients, the same variables. Every other layer and
    backend runs Keras' own convolution unchanged.
    """

    def convolution_op(self, inputs, kernel):
        if self.filters == 1 and keras.backend.backend() == "torch":
            doubled = ops.concatenate([kernel, kernel], axis=-1)
            return super().convolution_op(inputs, doubled)[..., :1]
        return super().convolution_op(inputs, kernel)
