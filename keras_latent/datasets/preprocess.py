"""The papers' preprocessing: uint8 pixels as distributed -> NHWC float32 32x32 in [-1, 1].

Per dataset (official ACAI code, ``lib/data.py``): pixels scaled by ``x / 127.5 - 1``;
MNIST and Fashion-MNIST padded 28 -> 32 with -1 (2 pixels on each side); SVHN and CIFAR-10
unchanged; CelebA (218x178 aligned faces) cropped ``[36:-36, 16:-16]`` to 146x146, then
resized to 32x32 by TensorFlow's legacy ``resize_bicubic`` (see :func:`resize_bicubic`).
"""

import numpy as np

IMAGE_SIZE = 32

RAW_SHAPES = {
    "mnist": (28, 28, 1),
    "fashion_mnist": (28, 28, 1),
    "svhn": (32, 32, 3),
    "cifar10": (32, 32, 3),
    "celeba32": (218, 178, 3),
}
"""Shape of one image as the standard files hold it."""

CELEBA_CROP = (slice(36, -36), slice(16, -16))

_CHUNK = 256  # CelebA images resized at once (bounds the float32 temporary to ~65 MB)


def channels(name):
    """Image channels of dataset ``name``."""
    return RAW_SHAPES[name][2]


def scale_into(out, raw):
    """``out[...] = raw / 127.5 - 1`` in float32, with no full-size temporary."""
    np.divide(raw, np.float32(127.5), out=out, dtype=np.float32, casting="unsafe")
    np.subtract(out, np.float32(1), out=out)


def preprocess_into(name, raw, out):
    """Write the preprocessed ``raw`` (uint8, ``(n, *RAW_SHAPES[name])``) into ``out``
    (float32, ``(n, 32, 32, channels)``).
    """
    if name in ("mnist", "fashion_mnist"):
        out.fill(-1)
        scale_into(out[:, 2:-2, 2:-2, :], raw)
    elif name in ("svhn", "cifar10"):
        scale_into(out, raw)
    elif name == "celeba32":
        for start in range(0, len(raw), _CHUNK):
            cropped = raw[start : start + _CHUNK, CELEBA_CROP[0], CELEBA_CROP[1], :]
            scaled = np.empty(cropped.shape, dtype=np.float32)
            scale_into(scaled, cropped)
            resized = resize_bicubic(scaled, IMAGE_SIZE)
            # Bicubic overshoots [-1, 1] near sharp edges; the models need [-1, 1].
            np.clip(resized, -1, 1, out=out[start : start + _CHUNK])
    else:
        raise ValueError(f"no preprocessing for dataset {name!r}")


def preprocess(name, raw):
    """The preprocessed float32 copy of ``raw`` (see :func:`preprocess_into`)."""
    out = np.empty((len(raw), IMAGE_SIZE, IMAGE_SIZE, channels(name)), dtype=np.float32)
    preprocess_into(name, raw, out)
    return out


def resize_bicubic(images, size):
    """TensorFlow 1's ``tf.image.resize_bicubic`` (align_corners=False), the official op.

    Output pixel ``o`` samples the input at ``o * in / out`` (no half-pixel offset) with the
    cubic convolution kernel of ``a = -0.75`` on the 4 nearest pixels, edge pixels repeated;
    the fractional offset is rounded to 1/1024 as TensorFlow's coefficient table does. No
    antialiasing (as in the paper), and no clipping: results may overshoot the input range.

    Args:
        images: float array ``(n, height, width, channels)``.
        size: output side (the output is ``size x size``).

    Returns:
        float32 ``(n, size, size, channels)``.
    """
    images = np.asarray(images, dtype=np.float32)
    n, height, width, chans = images.shape
    rows = _bicubic_matrix(height, size)
    cols = _bicubic_matrix(width, size)
    tmp = np.matmul(rows, images.reshape(n, height, width * chans))  # (n, size, width*C)
    tmp = np.matmul(cols, tmp.reshape(n * size, width, chans))  # (n*size, size, C)
    return tmp.reshape(n, size, size, chans)


def _bicubic_matrix(in_size, out_size, a=-0.75, table_size=1024):
    """``(out_size, in_size)`` float32 matrix of TF's legacy bicubic resampling weights."""
    position = np.arange(out_size) * (in_size / out_size)
    base = np.floor(position).astype(np.int64)
    delta = np.rint((position - base) * table_size) / table_size
    distances = np.stack([1 + delta, delta, 1 - delta, 2 - delta], axis=1)
    near = ((a + 2) * distances - (a + 3)) * distances**2 + 1
    far = ((a * distances - 5 * a) * distances + 8 * a) * distances - 4 * a
    weights = np.where(distances <= 1, near, far)
    taps = np.clip(base[:, None] + np.arange(-1, 3), 0, in_size - 1)
    matrix = np.zeros((out_size, in_size))
    np.add.at(matrix, (np.repeat(np.arange(out_size), 4), taps.ravel()), weights.ravel())
    return matrix.astype(np.float32)
