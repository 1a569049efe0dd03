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
    """``keras.layers.Conv2D`` with two PyTorch-specific code paths: same variables and maths.

    - Fused bias: on the torch backend, a channels-first layer whose padding torch can express
      ('valid', or 'same' at stride 1 with an odd dilated kernel) passes its bias to
      ``torch.nn.functional.conv2d``, which adds it inside the oneDNN kernel (and computes its
      gradient in the convolution's backward). Keras' own layer adds the bias as a separate
      broadcast op whose backward is a separate reduction (their cost in an ACAI step:
      ``benchmarks/torch_profile.py``, recorded in ``benchmarks/README.md``). Its activation,
      if a layer, is applied through its ``call``: the input is already in the compute dtype,
      so ``Layer.__call__``'s casting and bookkeeping are skipped.
    - A batch of one with one filter: PyTorch's CPU ``conv2d`` backward (2.13) fails with
      "slow_conv2d: grad_weight must be contiguous" for a single-output-channel layer such as a
      decoder's last layer for greyscale images. The fused path passes a contiguous kernel,
      which avoids it; elsewhere on torch a single-filter layer convolves with its kernel
      repeated along the output axis and keeps the first output channel.

    Every other layer and backend runs Keras' own convolution unchanged.
    """

    def call(self, inputs):
        if not self._fuses_bias():
            return super().call(inputs)
        import torch

        kernel = ops.transpose(self.kernel, (3, 2, 0, 1)).contiguous()
        padding = 0 if self.padding == "valid" else [d * (k - 1) // 2 for k, d in self._taps()]
        outputs = torch.nn.functional.conv2d(
            inputs,
            kernel,
            ops.convert_to_tensor(self.bias),
            stride=self.strides,
            padding=padding,
            dilation=self.dilation_rate,
            groups=self.groups,
        )
        return getattr(self.activation, "call", self.activation)(outputs)

    def _taps(self):
        return zip(self.kernel_size, self.dilation_rate)

    def _fuses_bias(self):
        if keras.backend.backend() != "torch" or self.data_format != "channels_first":
            return False
        if not self.use_bias or self.padding not in ("valid", "same"):
            return False
        same_is_symmetric = all(s == 1 for s in self.strides) and all(
            d * (k - 1) % 2 == 0 for k, d in self._taps()
        )
        return self.padding == "valid" or same_is_symmetric

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
    model runs no transposes. On the torch backend a channels-first input goes through
    ``torch.nn.functional.interpolate(mode="nearest")`` (the same values; its backward sums
    each block in one kernel, where the backward of two repeats is two strided reductions:
    ``benchmarks/torch_profile.py``, recorded in ``benchmarks/README.md``).
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
        if self.data_format == "channels_first" and keras.backend.backend() == "torch":
            import torch

            return torch.nn.functional.interpolate(inputs, scale_factor=self.factor)
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
