"""Custom Keras layers of keras-latent; each serialises through ``get_config``."""

import keras
from keras import ops

from keras_latent import losses


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
            outputs = super().convolution_op(inputs, doubled)
            return outputs[:, :1] if self.data_format == "channels_first" else outputs[..., :1]
        return super().convolution_op(inputs, kernel)


@keras.saving.register_keras_serializable(package="keras_latent")
class NearestUpSampling2D(keras.layers.Layer):
    """Nearest-neighbour upsampling by an integer ``factor`` in either layout.

    ``keras.layers.UpSampling2D`` computes in channels-last only (it transposes channels-first
    inputs there and back); this repeats rows and columns where they are, so a channels-first
    model runs no transposes.
    """

    def __init__(self, factor=2, data_format="channels_last", **kwargs):
        super().__init__(**kwargs)
        self.factor = int(factor)
        if data_format not in ("channels_last", "channels_first"):
            raise ValueError(
                f"data_format must be 'channels_last' or 'channels_first', got {data_format!r}"
            )
        self.data_format = data_format

    def call(self, inputs):
        first = 2 if self.data_format == "channels_first" else 1
        outputs = ops.repeat(inputs, self.factor, axis=first)
        return ops.repeat(outputs, self.factor, axis=first + 1)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        first = 2 if self.data_format == "channels_first" else 1
        for axis in (first, first + 1):
            shape[axis] = None if shape[axis] is None else shape[axis] * self.factor
        return tuple(shape)

    def get_config(self):
        config = super().get_config()
        config.update(factor=self.factor, data_format=self.data_format)
        return config


@keras.saving.register_keras_serializable(package="keras_latent")
class EccentricRegularization(keras.layers.Layer):
    """Identity layer that adds ``weight * eccentric_loss(inputs)`` to the model's losses.

    See ``keras_latent.losses.eccentric_loss`` for the definition (pairwise repulsion with
    kernel exponent ``power``, quadratic ``attraction`` toward the origin) and its minimiser.
    The loss is added through ``add_loss`` on every call, so Keras' standard ``compute_loss``
    (any ``compile``d model, functional or subclassed) adds it to the training loss. Models
    that override ``compute_loss`` without reading ``self.losses`` (the keras-latent
    autoencoders) ignore it: use ``EccentricAutoencoder`` there.

    Args:
        weight: ``>= 0``, the factor of the loss.
        power, attraction, chunk_size: passed to ``eccentric_loss``.
    """

    def __init__(self, weight=1.0, power=1.0, attraction=1.0, chunk_size=1024, **kwargs):
        super().__init__(**kwargs)
        self.weight = losses.check_weight(weight)
        self.power, self.attraction = losses.check_eccentric_arguments(power, attraction)
        self.chunk_size = losses.check_chunk_size(chunk_size)
        self.supports_masking = True

    def call(self, inputs):
        loss = losses.eccentric_loss(inputs, self.power, self.attraction, self.chunk_size)
        self.add_loss(self.weight * loss)
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            weight=self.weight,
            power=self.power,
            attraction=self.attraction,
            chunk_size=self.chunk_size,
        )
        return config
