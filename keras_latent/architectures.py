"""The ACAI convolutional encoder, decoder and critic (Berthelot et al., ICLR 2019).

All convolutions are 'same'-padded with a zero-initialised bias, LeakyReLU(0.2) activations and no
normalisation. Kernels are drawn from a normal with ``std = 1 / sqrt(1.04 * fan_in)`` (He
initialisation corrected for the leaky slope: ``1 + 0.2**2 = 1.04``), as in the official code.

With ``scales = log2(image_size / latent_width)``:

- encoder: 1x1 conv to ``depth``; per scale ``s``: two 3x3 convs to ``depth << s`` and a 2x2
  average pool; a 3x3 conv to ``depth << scales``; a linear 3x3 conv to ``latent`` channels.
- decoder: per scale ``s = scales-1 .. 0``: two 3x3 convs to ``depth << s`` and a nearest x2
  upsampling; a 3x3 conv to ``depth``; a linear 3x3 conv to the image channels.
- critic: the encoder architecture with its own weights, output the mean of its final (linear)
  feature map over H, W and C: one unbounded scalar per example.

The latent is spatial, ``(latent_width, latent_width, latent)``, so ``d_z = latent *
latent_width**2``.
"""

import math

import keras

from keras_latent.layers import Conv2D, NearestUpSampling2D, SpatialMean

LEAKY_SLOPE = 0.2


def acai_initializer():
    """Normal kernels with ``std = 1 / sqrt((1 + 0.2**2) * fan_in)``."""
    return keras.initializers.VarianceScaling(
        scale=1.0 / (1.0 + LEAKY_SLOPE**2), mode="fan_in", distribution="untruncated_normal"
    )


def count_scales(image_size, latent_width):
    """``log2(image_size / latent_width)``; both must be powers of two with latent <= image."""
    for name, value in (("image size", image_size), ("latent_width", latent_width)):
        if not isinstance(value, int) or value < 1 or value & (value - 1):
            raise ValueError(f"{name} must be a positive power of two, got {value!r}")
    if latent_width > image_size:
        raise ValueError(f"latent_width {latent_width} is larger than the image ({image_size})")
    return int(math.log2(image_size // latent_width))


def _check_image_shape(image_shape):
    image_shape = tuple(int(v) for v in image_shape)
    if len(image_shape) != 3 or image_shape[0] != image_shape[1] or image_shape[2] < 1:
        raise ValueError(
            f"image_shape must be (size, size, channels) with square images, got {image_shape}"
        )
    return image_shape


def compute_data_format():
    """The layout the convolutions compute in: channels-first on PyTorch, else channels-last.

    Inputs and outputs are channels-last on every backend. Keras' torch convolution copies a
    channels-last input twice (to NCHW, then to PyTorch's channels-last memory format) and
    back; channels-first layers run PyTorch's native layout with no copies, at the cost of
    one transpose at each end of a network. Kernels have the same shape in both layouts, so
    weights are unchanged and portable. TensorFlow's CPU kernels and XLA prefer
    channels-last. A choice of this project, not of the paper.
    """
    return "channels_first" if keras.backend.backend() == "torch" else "channels_last"


def _to_compute_layout(y, name):
    if compute_data_format() == "channels_first":
        return keras.layers.Permute((3, 1, 2), name=f"{name}_to_channels_first")(y)
    return y


def _from_compute_layout(y, name):
    if compute_data_format() == "channels_first":
        return keras.layers.Permute((2, 3, 1), name=f"{name}_to_channels_last")(y)
    return y


def _conv(filters, kernel_size, name, activation=True):
    return Conv2D(
        filters,
        kernel_size,
        padding="same",
        data_format=compute_data_format(),
        activation=keras.layers.LeakyReLU(LEAKY_SLOPE) if activation else None,
        kernel_initializer=acai_initializer(),
        bias_initializer="zeros",
        name=name,
    )


def _encoder_layers(image_shape, depth, latent, latent_width, name):
    size, _, channels = _check_image_shape(image_shape)
    scales = count_scales(size, latent_width)
    inputs = keras.Input(image_shape, name=f"{name}_images")
    y = _conv(depth, 1, f"{name}_in", activation=False)(_to_compute_layout(inputs, name))
    for s in range(scales):
        y = _conv(depth << s, 3, f"{name}_s{s}_conv1")(y)
        y = _conv(depth << s, 3, f"{name}_s{s}_conv2")(y)
        y = keras.layers.AveragePooling2D(
            2, data_format=compute_data_format(), name=f"{name}_s{s}_pool"
        )(y)
    y = _conv(depth << scales, 3, f"{name}_top")(y)
    y = _conv(latent, 3, f"{name}_out", activation=False)(y)
    return inputs, y


def build_encoder(image_shape=(32, 32, 1), depth=16, latent=16, latent_width=4, name="encoder"):
    """Images ``(size, size, C)`` -> spatial latent ``(latent_width, latent_width, latent)``."""
    inputs, outputs = _encoder_layers(image_shape, depth, latent, latent_width, name)
    return keras.Model(inputs, _from_compute_layout(outputs, name), name=name)


def build_decoder(image_shape=(32, 32, 1), depth=16, latent=16, latent_width=4, name="decoder"):
    """Spatial latent ``(latent_width, latent_width, latent)`` -> images, linear output."""
    size, _, channels = _check_image_shape(image_shape)
    scales = count_scales(size, latent_width)
    inputs = keras.Input((latent_width, latent_width, latent), name=f"{name}_latent")
    y = _to_compute_layout(inputs, name)
    for s in range(scales - 1, -1, -1):
        y = _conv(depth << s, 3, f"{name}_s{s}_conv1")(y)
        y = _conv(depth << s, 3, f"{name}_s{s}_conv2")(y)
        y = NearestUpSampling2D(2, data_format=compute_data_format(), name=f"{name}_s{s}_up")(y)
    y = _conv(depth, 3, f"{name}_top")(y)
    outputs = _conv(channels, 3, f"{name}_out", activation=False)(y)
    return keras.Model(inputs, _from_compute_layout(outputs, name), name=name)


def build_critic(image_shape=(32, 32, 1), depth=16, latent=16, latent_width=4, name="critic"):
    """The encoder architecture, reduced to ``mean_{H,W,C}`` of its last map: ``(n,)``."""
    inputs, features = _encoder_layers(image_shape, depth, latent, latent_width, name)
    outputs = SpatialMean(name=f"{name}_mean")(features)
    return keras.Model(inputs, outputs, name=name)
