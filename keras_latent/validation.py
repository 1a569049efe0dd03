"""Checks on user data, so that bad input fails early with a message a person can act on.

Images are NHWC float in [-1, 1]. Arrays are checked whole (shape, finiteness, range); streams
(``keras.utils.PyDataset``, ``tf.data.Dataset``) are checked on their first batch only;
Python generators are not checked, since peeking would consume them.
"""

import numpy as np

# Decoded or augmented images may overshoot [-1, 1] by rounding; raw 0-255 data must not pass.
RANGE_TOLERANCE = 1e-3


def check_images(x, image_shape, what="images"):
    """Return ``x`` as a float32 array of shape (n, *image_shape), or raise ValueError."""
    try:
        array = np.asarray(x)
    except Exception as error:  # noqa: BLE001 - any conversion failure is the user's input
        raise TypeError(f"{what} could not be converted to an array: {error}") from error
    if array.dtype == object or not (
        np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_
    ):
        raise TypeError(f"{what} must be numeric, got dtype {array.dtype}")
    expected = tuple(image_shape)
    if array.ndim == len(expected):
        raise ValueError(
            f"{what} must be a batch of shape (n, {', '.join(map(str, expected))}); got a single "
            f"image of shape {array.shape}: add a batch axis (x[None])"
        )
    if array.ndim != len(expected) + 1 or array.shape[1:] != expected:
        raise ValueError(
            f"{what} must have shape (n, {', '.join(map(str, expected))}) (NHWC) for this model; "
            f"got {array.shape}"
        )
    if array.shape[0] == 0:
        raise ValueError(f"{what} is empty (shape {array.shape})")
    array = array.astype("float32", copy=False)
    if not np.all(np.isfinite(array)):
        bad = int(np.sum(~np.isfinite(array).reshape(len(array), -1).all(axis=1)))
        raise ValueError(f"{what} contain NaN or infinite values ({bad} of {len(array)} images)")
    low, high = float(array.min()), float(array.max())
    if low < -1 - RANGE_TOLERANCE or high > 1 + RANGE_TOLERANCE:
        hint = " (raw 0-255 pixels? use x / 127.5 - 1)" if high > 2 else ""
        raise ValueError(f"{what} must lie in [-1, 1]; got values in [{low:g}, {high:g}]{hint}")
    return array


def check_labels(y, n, num_classes):
    """Return integer labels of shape (n,) in [0, num_classes), or raise ValueError."""
    if num_classes is None:
        raise ValueError(
            "labels were given but the model has no linear probe: construct it with "
            "num_classes=K to train a probe on the latent alongside the autoencoder"
        )
    labels = np.asarray(y)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1 or labels.shape[0] != n:
        raise ValueError(f"labels must have shape ({n},) to match the images; got {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer):
        if not np.all(np.isfinite(labels)) or np.any(labels != np.round(labels)):
            raise ValueError("labels must be integer class indices")
        labels = labels.astype("int64")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(
            f"labels must lie in [0, {num_classes}); got [{labels.min()}, {labels.max()}]"
        )
    return labels


def first_batch(data):
    """The first batch of a PyDataset or tf.data.Dataset, or None for other inputs."""
    import keras

    if isinstance(data, keras.utils.PyDataset):
        return data[0]
    if type(data).__module__.startswith("tensorflow") and hasattr(data, "take"):
        for batch in data.take(1):
            return batch
    return None


def split_batch(batch):
    """``x`` or ``(x,)``/``(x, y)``/``(x, y, w)`` -> ``(x, y, w)``."""
    if isinstance(batch, (tuple, list)):
        batch = tuple(batch) + (None,) * (3 - len(batch))
        return batch[:3]
    return batch, None, None


def check_latents(z, what="latents"):
    """Return codes ``(n, ...)`` as float64 ``(n, d)`` (flattened per example), or raise.

    Refused: non-numeric data, fewer than two axes, an empty batch, NaN or infinite values.
    """
    try:
        array = np.asarray(z)
    except Exception as error:  # noqa: BLE001 - any conversion failure is the user's input
        raise TypeError(f"{what} could not be converted to an array: {error}") from error
    if array.dtype == object or not np.issubdtype(array.dtype, np.number):
        raise TypeError(f"{what} must be numeric, got dtype {array.dtype}")
    if array.ndim < 2:
        raise ValueError(f"{what} must be a batch of codes of shape (n, ...); got {array.shape}")
    if array.shape[0] == 0 or array[0].size == 0:
        raise ValueError(f"{what} is empty (shape {array.shape})")
    flat = array.reshape(len(array), -1).astype("float64")
    finite = np.isfinite(flat).all(axis=1)
    if not finite.all():
        raise ValueError(
            f"{what} contain NaN or infinite values ({int((~finite).sum())} of {len(flat)} "
            "codes): the encoder diverged or its input was not finite"
        )
    return flat
