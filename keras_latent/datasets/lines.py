"""The synthetic *lines* data set of ACAI.

Berthelot, Raffel, Roy and Goodfellow, "Understanding and Improving Interpolation in
Autoencoders via an Adversarial Regularizer", ICLR 2019; official code:
https://github.com/brain-research/acai (``lib/data.py``, ``lib/eval.py``).

Each image is a ``size x size`` greyscale picture of a 2-pixel-wide anti-aliased segment from
the image centre to radius ``size/2 - 1`` (15 for 32x32) at an angle ``theta`` counter-clockwise
from +x with y up. Pixel values are ``2 * coverage - 1`` in [-1, 1]; the background is -1.
Training draws ``theta ~ U(0, 2 pi)`` afresh for every image; the test set holds 5000 lines.
The drawing is the official code's by default (``drawing="official"``); ``"centred"`` samples
each row at its centre (see :func:`draw`). Presets and results record which one they used.
The official code labels a line with ``int(10 * theta / (2 pi - 1e-6))`` (10 angle classes),
see :func:`angle_labels`.
"""

import functools
import math
import operator

import keras
import numpy as np

from keras_latent.datasets.feeding import STREAM_WORKERS

TEST_SIZE = 5000
"""Number of lines in the paper's test set."""

TEST_SEED = 20190506
"""Seed of ``np.random.default_rng`` that draws the test-set angles (ICLR 2019's first day)."""

NUM_CLASSES = 10
"""Angle classes of the official code."""

_LABEL_PERIOD = 2 * math.pi - 1e-6  # the official code's divisor, kept for identical labels


DRAWINGS = ("official", "centred")
"""Names of the two drawings of :func:`draw`; ``"official"`` is the default everywhere."""

DEFAULT_DRAWING = "official"


def draw(angles, size=32, drawing=DEFAULT_DRAWING):
    """Draws one line per angle.

    Geometry, in a continuous plane where pixel (row r, col c) covers [c, c+1) x [r, r+1):
    the segment runs from the centre (r0, c0) = (size/2, size/2) to radius R = size/2 - 1, at
    end (r0 - R sin(theta), c0 + R cos(theta)). The *major* axis is the one (rows or columns)
    with the larger extent; rows win ties. Along it, with [lo, hi] the segment's extent, each
    index i with floor(lo) <= i < ceil(hi) has a weight w_i; the line's minor coordinate m_i is
    read at a major coordinate a_i, and the span [m_i - 1, m_i + 1] gives minor pixel j the
    coverage w_i * |[j, j+1] ∩ [m_i - 1, m_i + 1]|. Pixel = clip(2 * coverage - 1, -1, 1).

    Two drawings (``drawing``):

    - ``"official"`` (default): ``draw_line`` of the official ACAI code (``lib/data.py``),
      equal to it within 1e-14 at 32x32 (tests/datasets/test_lines.py): a_i = i - 1/2, half a
      row early, and w_i = |[i, i+1] ∩ [lo, hi]| except that every row after the first gets
      w = 1, the last, partly covered one too (the official partial-weight branch for it can
      never run). The paper's figures were measured on this drawing. At other sizes the same
      rule is applied inside the image (the official code is only run at 32x32).
    - ``"centred"``: a_i = i + 1/2 (the row's centre) and every row gets its overlap with
      [lo, hi]. The ink is exactly 2 R max(|cos|, |sin|) and the drawing is symmetric under the
      plane's reflections; this project's choice before version 0.2, kept for the presets
      trained on it.

    Args:
        angles: scalar or 1-D array of finite angles in radians.
        size: image side, an even integer >= 4.
        drawing: ``"official"`` or ``"centred"``.

    Returns:
        float32 array of shape (n, size, size, 1), n = number of angles (1 for a scalar).
    """
    drawing = check_drawing(drawing)
    theta = _check_angles(angles)
    size = _check_size(size)
    centre = size / 2
    radius = centre - 1
    d_row = -radius * np.sin(theta)
    d_col = radius * np.cos(theta)
    rows_major = np.abs(d_row) >= np.abs(d_col)
    d_major = np.where(rows_major, d_row, d_col)
    d_minor = np.where(rows_major, d_col, d_row)
    coverage = _coverage_major_first(d_major, d_minor, centre, size, drawing == "official")
    coverage = np.where(rows_major[:, None, None], coverage, coverage.transpose(0, 2, 1))
    pixels = np.clip(2 * coverage - 1, -1, 1)
    return pixels[..., None].astype(np.float32)


def check_drawing(drawing):
    """``drawing`` if it names one of :data:`DRAWINGS`, else a ``ValueError``."""
    if drawing not in DRAWINGS:
        raise ValueError(f"drawing must be one of {DRAWINGS}, got {drawing!r}")
    return drawing


def _coverage_major_first(d_major, d_minor, centre, size, official):
    """Coverage (n, size, size) indexed [line, major index i, minor index j].

    The segment goes from (centre, centre) to (centre + d_major, centre + d_minor) in
    (major, minor) coordinates; |d_major| >= |d_minor| and d_major != 0.
    """
    lo = centre + np.minimum(d_major, 0)
    hi = centre + np.maximum(d_major, 0)
    slope = d_minor / d_major
    cells = np.arange(size)
    coverage = np.empty((d_major.size, size, size))
    offset = -0.5 if official else 0.5
    for i in range(size):
        if official:  # a partial first row, every later one whole (the last one too)
            inside = (np.floor(lo) <= i) & (i < np.ceil(hi))
            weight = np.where(inside, np.where(i < np.ceil(lo), np.ceil(lo) - lo, 1.0), 0.0)
        else:
            weight = _overlap(i, i + 1, lo, hi)
        minor = centre + (i + offset - centre) * slope
        span = _overlap(cells, cells + 1, minor[:, None] - 1, minor[:, None] + 1)
        coverage[:, i, :] = weight[:, None] * span
    return coverage


def _overlap(a_lo, a_hi, b_lo, b_hi):
    """Length of the intersection of the intervals [a_lo, a_hi] and [b_lo, b_hi] (>= 0)."""
    return np.maximum(np.minimum(a_hi, b_hi) - np.maximum(a_lo, b_lo), 0)


def _check_angles(angles):
    theta = np.asarray(angles, dtype=np.float64)
    if theta.ndim > 1:
        raise ValueError(f"angles must be a scalar or 1-D, got shape {theta.shape}")
    if not np.all(np.isfinite(theta)):
        raise ValueError("angles must be finite")
    return theta.reshape(-1)


def _check_size(size):
    try:
        size = operator.index(size)
    except TypeError:
        raise ValueError(f"size must be an even integer >= 4, got {size!r}") from None
    if isinstance(size, bool) or size < 4 or size % 2:
        raise ValueError(f"size must be an even integer >= 4, got {size!r}")
    return size


def angle_labels(angles, num_classes=NUM_CLASSES):
    """Angle classes ``floor(num_classes * (theta mod 2 pi) / (2 pi - 1e-6))``, as int64.

    With ``num_classes=10`` and theta in [0, 2 pi) this is the official
    ``int(10 * theta / (2 pi - 1e-6))``; the result is capped at ``num_classes - 1`` for the
    angles within 1e-6 of 2 pi that the official formula would send to class ``num_classes``.
    """
    theta = np.mod(np.asarray(angles, dtype=np.float64), 2 * math.pi)
    labels = np.floor(num_classes * theta / _LABEL_PERIOD).astype(np.int64)
    return np.minimum(labels, num_classes - 1)


def test_set(n=TEST_SIZE, seed=TEST_SEED, drawing=DEFAULT_DRAWING):
    """The fixed test set: ``(images, angles)``.

    ``angles = np.random.default_rng(seed).uniform(0, 2 pi, n)`` (float64) and
    ``images = draw(angles, drawing=drawing)`` (float32, (n, 32, 32, 1)); identical across
    calls and machines. Returns fresh copies of a cached draw, so callers may modify them.
    """
    images, angles = _cached_test_set(n, seed, check_drawing(drawing))
    return images.copy(), angles.copy()


@functools.lru_cache(maxsize=4)
def _cached_test_set(n, seed, drawing):
    angles = np.random.default_rng(seed).uniform(0, 2 * math.pi, n)
    return draw(angles, drawing=drawing), angles


class LinesStream(keras.utils.PyDataset):
    """Endless, seeded stream of training lines for ``model.fit``.

    Batch ``index`` of epoch ``e`` holds ``batch_size`` lines with angles drawn from
    ``np.random.default_rng([seed, e, index]).uniform(0, 2 pi)``: every epoch shows new lines
    and a run is reproducible whatever the number of workers. ``e`` counts the calls of
    ``on_epoch_end``; Keras also calls it when ``fit`` or ``evaluate`` starts (its iterator
    reset), so a fresh stream's first trained epoch is e = 1, the same on every backend.

    Args:
        batch_size: lines per batch (>= 1).
        steps_per_epoch: batches per epoch, the value of ``len()`` (>= 1).
        seed: non-negative integer.
        labels: if True, batches are ``(images, angle_labels(angles))``, else images only.
        size: image side (even integer >= 4).
        drawing: ``"official"`` (default) or ``"centred"``, see :func:`draw`.
        **kwargs: ``workers``, ``use_multiprocessing``, ``max_queue_size`` of ``PyDataset``;
            ``workers`` defaults to 2 threads (see ``keras_latent.datasets.feeding``: no
            tf.data autotune stalls on TensorFlow).
    """

    def __init__(
        self,
        batch_size=64,
        steps_per_epoch=1000,
        seed=0,
        labels=False,
        size=32,
        drawing=DEFAULT_DRAWING,
        **kwargs,
    ):
        super().__init__(**{"workers": STREAM_WORKERS, **kwargs})
        self.batch_size = _check_int("batch_size", batch_size)
        self.steps_per_epoch = _check_int("steps_per_epoch", steps_per_epoch)
        self.seed = _check_int("seed", seed, minimum=0)
        self.labels = bool(labels)
        self.size = _check_size(size)
        self.drawing = check_drawing(drawing)
        self.epoch = 0

    def __len__(self):
        return self.steps_per_epoch

    def __getitem__(self, index):
        rng = np.random.default_rng([self.seed, self.epoch, index])
        angles = rng.uniform(0, 2 * math.pi, self.batch_size)
        images = draw(angles, self.size, self.drawing)
        return (images, angle_labels(angles)) if self.labels else images

    def on_epoch_end(self):
        self.epoch += 1


def _check_int(name, value, minimum=1):
    try:
        value = operator.index(value)
    except TypeError:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}") from None
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value
