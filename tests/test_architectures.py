import keras
import numpy as np
import pytest

from keras_latent.architectures import (
    acai_initializer,
    build_critic,
    build_decoder,
    build_encoder,
    compute_data_format,
    count_scales,
)
from keras_latent.layers import NearestUpSampling2D


@pytest.mark.parametrize(
    "config, encoder_params, decoder_params",
    [
        (dict(depth=16, latent=16, latent_width=2), 627_472, 313_985),  # lines
        (dict(depth=16, latent=16, latent_width=4), 166_288, 83_329),  # MNIST d_z 256
    ],
)
def test_parameter_counts_match_the_paper_configurations(config, encoder_params, decoder_params):
    assert build_encoder(**config).count_params() == encoder_params
    assert build_decoder(**config).count_params() == decoder_params
    assert build_critic(**config).count_params() == encoder_params


def test_layout_and_shapes():
    encoder = build_encoder((32, 32, 3), depth=8, latent=2, latent_width=4)
    decoder = build_decoder((32, 32, 3), depth=8, latent=2, latent_width=4)
    critic = build_critic((32, 32, 3), depth=8, latent=2, latent_width=4)
    assert encoder.output_shape == (None, 4, 4, 2)
    assert decoder.output_shape == (None, 32, 32, 3)
    assert critic.output_shape == (None,)
    convs = [layer for layer in encoder.layers if isinstance(layer, keras.layers.Conv2D)]
    assert [c.filters for c in convs] == [8, 8, 8, 16, 16, 32, 32, 64, 2]
    assert convs[0].kernel_size == (1, 1)
    # First 1x1 and last conv are linear, the rest LeakyReLU(0.2); biases start at zero.
    assert convs[0].activation is keras.activations.linear
    assert convs[-1].activation is keras.activations.linear
    assert all(isinstance(c.activation, keras.layers.LeakyReLU) for c in convs[1:-1])
    assert all(c.activation.negative_slope == pytest.approx(0.2) for c in convs[1:-1])
    assert all(c.padding == "same" and np.all(c.bias.numpy() == 0) for c in convs)
    dec_convs = [layer for layer in decoder.layers if isinstance(layer, keras.layers.Conv2D)]
    assert [c.filters for c in dec_convs] == [32, 32, 16, 16, 8, 8, 8, 3]
    ups = [layer for layer in decoder.layers if isinstance(layer, NearestUpSampling2D)]
    assert len(ups) == 3 and all(u.factor == 2 for u in ups)


@pytest.mark.backend
def test_convolutions_compute_in_the_backends_layout_behind_channels_last_interfaces():
    """Channels-first inside on torch (no copies around each convolution), channels-last
    elsewhere; every network takes and returns channels-last tensors on every backend."""
    expected = "channels_first" if keras.backend.backend() == "torch" else "channels_last"
    assert compute_data_format() == expected
    encoder = build_encoder((32, 32, 3), depth=4, latent=2, latent_width=8)
    decoder = build_decoder((32, 32, 3), depth=4, latent=2, latent_width=8)
    layers = encoder.layers + decoder.layers
    assert {layer.data_format for layer in layers if hasattr(layer, "data_format")} == {expected}
    x = np.random.default_rng(0).uniform(-1, 1, (2, 32, 32, 3)).astype("float32")
    z = encoder(x)
    assert tuple(z.shape) == (2, 8, 8, 2)
    assert tuple(decoder(z).shape) == (2, 32, 32, 3)


@pytest.mark.backend
def test_the_global_image_data_format_does_not_change_the_networks():
    """A user's ``keras.config.set_image_data_format("channels_first")`` (for their own
    layers) leaves the networks' layout, outputs and weights as they are."""
    x = np.random.default_rng(0).uniform(-1, 1, (2, 32, 32, 1)).astype("float32")
    keras.utils.set_random_seed(0)
    expected = keras.ops.convert_to_numpy(build_critic((32, 32, 1), 4, 2, 8)(x))
    previous = keras.config.image_data_format()
    keras.config.set_image_data_format("channels_first")
    try:
        keras.utils.set_random_seed(0)
        critic = build_critic((32, 32, 1), 4, 2, 8)
        got = keras.ops.convert_to_numpy(critic(x))
    finally:
        keras.config.set_image_data_format(previous)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_critic_is_the_mean_of_an_encoder_feature_map():
    critic = build_critic((32, 32, 1), depth=4, latent=4, latent_width=8)
    features = keras.Model(critic.input, critic.get_layer("critic_out").output)
    x = np.random.default_rng(0).uniform(-1, 1, (3, 32, 32, 1)).astype("float32")
    expected = keras.ops.convert_to_numpy(features(x)).mean(axis=(1, 2, 3))
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(critic(x)), expected, rtol=1e-4, atol=1e-6
    )


def test_initializer_std_is_he_corrected_for_the_leaky_slope():
    fan_in = 3 * 3 * 64
    kernel = keras.ops.convert_to_numpy(acai_initializer()((3, 3, 64, 512)))
    assert kernel.std() == pytest.approx(1 / np.sqrt(1.04 * fan_in), rel=0.02)
    assert abs(kernel.mean()) < 1e-3


def test_other_power_of_two_sizes():
    assert count_scales(64, 4) == 4
    encoder = build_encoder((64, 64, 3), depth=4, latent=2, latent_width=4)
    assert encoder.output_shape == (None, 4, 4, 2)


@pytest.mark.parametrize(
    "shape, width", [((30, 30, 1), 2), ((32, 32, 1), 3), ((32, 32, 1), 64), ((32, 16, 1), 2)]
)
def test_bad_shapes_are_refused_with_a_clear_error(shape, width):
    with pytest.raises(ValueError, match="power of two|larger than|square"):
        build_encoder(shape, depth=4, latent=2, latent_width=width)
