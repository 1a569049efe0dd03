"""Checks on user data, so that bad input fails early with a message a person can act on.

Images are NHWC float in [-1, 1]. Arrays are checked whole (shape, finiteness, range); streams
(``keras.utils.PyDataset``, ``tf.data.Dataset``) are checked on their first batch before
``fit`` starts; Python generators are not peeked at, since peeking would consume them.

Every training step is checked too, whatever the data's source: the model's compiled step
returns a few statistics of its batch (``models.base.batch_statistics``: min, max and
finiteness of the images, min and max of the labels) under ``BATCH_PREFIX`` in its logs, and
:func:`check_step` (run by ``callbacks.StepCheck``, first among ``fit``'s callbacks) removes
them and raises :class:`BadBatchError` for images not finite or outside [-1, 1] or labels
outside [0, num_classes), then :class:`NonFiniteLossError` for a NaN or infinite loss.
"""

import math

import numpy as np

# Decoded or augmented images may overshoot [-1, 1] by rounding; raw 0-255 data must not pass.
RANGE_TOLERANCE = 1e-3
# Log keys of a training step's batch statistics (removed before History or a progress bar).
BATCH_PREFIX = "batch_check/"


class BadBatchError(ValueError):
    """A training batch whose images are not finite or outside [-1, 1], or whose labels are
    outside [0, num_classes)."""


class NonFiniteLossError(ValueError):
    """A training step whose loss is NaN or infinite."""


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
        raise ValueError(range_message(what, low, high))
    return array


def range_message(what, low, high):
    """The error for images with values in ``[low, high]``, not in [-1, 1]."""
    hint = " (raw 0-255 pixels? use x / 127.5 - 1)" if high > 2 else ""
    return f"{what} must lie in [-1, 1]; got values in [{low:g}, {high:g}]{hint}"


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


def check_step(logs, where, num_classes=None):
    """Raise for one training step's ``logs``: :class:`BadBatchError` for its batch, then
    :class:`NonFiniteLossError` for its loss; the batch statistics are removed from ``logs``.

    ``where`` names the step in the messages, e.g. "training step 12 (epoch 1, batch 12)".
    """
    check_batch(pop_batch_statistics(logs), where, num_classes)
    check_loss(logs, where)


def pop_batch_statistics(logs):
    """Remove the batch statistics (keys under ``BATCH_PREFIX``) from ``logs``; return them
    keyed by their short names (``images_min``, ...)."""
    if not logs:
        return {}
    keys = [key for key in logs if key.startswith(BATCH_PREFIX)]
    return {key[len(BATCH_PREFIX) :]: float(logs.pop(key)) for key in keys}


def check_batch(stats, where, num_classes=None):
    """Raise BadBatchError where a batch's statistics show images that are not finite or lie
    outside [-1, 1] (by more than ``RANGE_TOLERANCE``), or labels outside [0, num_classes).

    The ``*_excess`` statistics are > 0 exactly when the batch is out of range (their mean over
    ``tf.distribute`` replicas too); min and max give the message.
    """
    if stats.get("images_nonfinite", 0.0) > 0:
        raise BadBatchError(f"images of {where} contain NaN or infinite values")
    if stats.get("images_excess", 0.0) > 0:
        raise BadBatchError(
            range_message(f"images of {where}", stats["images_min"], stats["images_max"])
        )
    if stats.get("labels_excess", 0.0) > 0:
        raise BadBatchError(
            f"labels of {where} must lie in [0, {num_classes}); got "
            f"[{stats['labels_min']:g}, {stats['labels_max']:g}]"
        )


def check_loss(logs, where):
    """Raise NonFiniteLossError if ``logs["loss"]`` is NaN or infinite, naming every
    non-finite entry of ``logs`` (the loss terms)."""
    if not logs or "loss" not in logs or _finite(logs["loss"]):
        return
    bad = ", ".join(f"{key}={float(value):g}" for key, value in logs.items() if not _finite(value))
    raise NonFiniteLossError(
        f"non-finite loss at {where}: {bad}. Training stopped before the step's later "
        "callbacks, so no checkpoint holds this step; the model's weights in memory do. Check "
        "the data, or lower the learning rate and resume from the last checkpoint"
    )


def _finite(value):
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return True  # not a number: not a loss


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
