"""The papers' preprocessing: scaling, MNIST padding, CelebA crop and the legacy bicubic."""

import numpy as np
import pytest

from keras_latent.datasets import preprocess


def test_scale_is_exactly_x_over_127_5_minus_1():
    raw = np.arange(256, dtype=np.uint8).reshape(1, 16, 16, 1)
    out = np.empty(raw.shape, np.float32)
    preprocess.scale_into(out, raw)
    np.testing.assert_array_equal(out, raw.astype(np.float32) / np.float32(127.5) - 1)
    assert out.min() == -1 and out.max() == 1


@pytest.mark.parametrize("name", ["mnist", "fashion_mnist"])
def test_mnist_is_padded_with_minus_one(name):
    raw = np.full((2, 28, 28, 1), 255, np.uint8)
    out = preprocess.preprocess(name, raw)
    assert out.shape == (2, 32, 32, 1) and out.dtype == np.float32
    assert np.all(out[:, 2:30, 2:30] == 1)
    assert (out == -1).sum() == 2 * (32 * 32 - 28 * 28)


@pytest.mark.parametrize(
    ("in_shape", "size"), [((146, 146), 32), ((10, 7), 4), ((5, 5), 8), ((32, 32), 32)]
)
def test_resize_bicubic_is_tensorflows_legacy_op(in_shape, size):
    """The official code's ``tf.image.resize_bicubic`` (TF1: align_corners=False and no
    half-pixel centres), down, up, non-integer ratios and identity."""
    tf = pytest.importorskip("tensorflow")
    x = np.random.default_rng(0).uniform(-1, 1, (2, *in_shape, 3)).astype(np.float32)
    expected = tf.raw_ops.ResizeBicubic(
        images=x, size=[size, size], align_corners=False, half_pixel_centers=False
    ).numpy()
    np.testing.assert_allclose(preprocess.resize_bicubic(x, size), expected, atol=1e-6)


def test_resize_bicubic_keeps_constants():
    x = np.full((1, 146, 146, 3), 0.25, np.float32)
    np.testing.assert_allclose(preprocess.resize_bicubic(x, 32), 0.25, atol=1e-6)


def test_celeba_crop_resize_and_clip():
    rng = np.random.default_rng(1)
    raw = rng.integers(0, 256, (3, 218, 178, 3), dtype=np.uint8)
    raw[:, :36] = 0  # outside the crop: must not matter
    out = preprocess.preprocess("celeba32", raw)
    cropped = raw[:, 36:-36, 16:-16].astype(np.float32) / np.float32(127.5) - 1
    assert cropped.shape == (3, 146, 146, 3)
    expected = np.clip(preprocess.resize_bicubic(cropped, 32), -1, 1)
    np.testing.assert_allclose(out, expected, atol=1e-6)
    assert out.min() >= -1 and out.max() <= 1
    assert out.shape == (3, 32, 32, 3) and out.dtype == np.float32
