"""Interpolation metrics on the lines data set (ACAI, Berthelot et al., ICLR 2019).

Protocol of the paper and its official code (https://github.com/brain-research/acai,
``lib/eval.py``): the first 256 test lines are paired with the next 256; each pair is
interpolated in 16 decoded steps, t = k/15, endpoints included. Every decoded image is matched
to the closest of 10,000 reference lines (angles evenly spaced over [0, 2 pi)) by cosine
distance on raw pixels. The reference lines and the test lines are drawn with the same
drawing (``drawing``, the official code's by default): a model should be scored with the
drawing it was trained on, since the two drawings differ by about 3e-3 in Mean Distance.

- Mean Distance: mean over all images of that minimum cosine distance (0 for perfect lines).
- Smoothness: per pair, on the matched angles unwrapped along the steps,
  ``max_k |theta_{k+1} - theta_k| / |theta_last - theta_first| - 1/(steps - 1)``
  (0 when the angle moves in equal steps, ``1 - 1/(steps - 1)`` for an abrupt jump); a pair
  whose total change is below 1e-4 scores 0; mean over pairs.
"""

import functools
import math

import keras
import numpy as np

from keras_latent.datasets.lines import DEFAULT_DRAWING, check_drawing, draw, test_set

BANK_SIZE = 10_000
"""Reference lines of the official protocol."""

_CHUNK = 1024  # images per similarity matmul: a (1024, BANK_SIZE) float64 block, 80 MB
_TINY = 1e-12  # stands in for the norm of an all-zero image
_MIN_CHANGE = 1e-4  # total angle change under which a pair's smoothness is 0


def reference_bank(n=BANK_SIZE, size=32, drawing=DEFAULT_DRAWING):
    """Reference lines ``(unit_lines, angles)``, cached and read-only.

    ``angles = linspace(0, 2 pi, n, endpoint=False)`` and ``unit_lines`` ((n, size * size),
    80 MB for the default) are the lines drawn with ``drawing``, flattened, each row divided by
    its L2 norm; both float64.
    """
    return _reference_bank(n, size, check_drawing(drawing))


@functools.lru_cache(maxsize=2)
def _reference_bank(n, size, drawing):
    angles = np.linspace(0, 2 * math.pi, n, endpoint=False)
    lines = draw(angles, size, drawing).reshape(n, -1).astype(np.float64)
    unit_lines = lines / np.linalg.norm(lines, axis=1, keepdims=True)
    unit_lines.flags.writeable = False
    angles.flags.writeable = False
    return unit_lines, angles


def closest_lines(images, drawing=DEFAULT_DRAWING):
    """Nearest reference line of each image: ``(distances, angles)``, float64 of shape (n,).

    ``distance = 1 - <u, v> / (|u| |v|)`` on raw pixels (no centring), minimised over the
    reference lines v of :func:`reference_bank` (side taken from ``images``, lines drawn
    with ``drawing``), in float64 matmuls
    of 1024 images at a time (float32 accumulation errors, about 1e-6, exceed the distance
    between neighbouring reference lines and would pick the wrong neighbour). An
    all-zero image has no direction: its norm is taken as a tiny epsilon, so its distance is 1
    and its angle 0.

    Args:
        images: (n, size, size, 1) array.
    """
    images = _to_numpy(images)
    if images.ndim != 4 or images.shape[-1] != 1 or images.shape[1] != images.shape[2]:
        raise ValueError(f"images must have shape (n, size, size, 1), got {images.shape}")
    if len(images) == 0:
        raise ValueError("images must hold at least one image, got none")
    bank, bank_angles = reference_bank(size=images.shape[1], drawing=drawing)
    flat = images.reshape(len(images), -1).astype(np.float64)
    unit = flat / np.maximum(np.linalg.norm(flat, axis=1, keepdims=True), _TINY)
    best = np.empty(len(unit), dtype=np.int64)
    similarity = np.empty(len(unit))
    for start in range(0, len(unit), _CHUNK):
        block = unit[start : start + _CHUNK] @ bank.T
        best[start : start + _CHUNK] = block.argmax(axis=1)
        similarity[start : start + _CHUNK] = block.max(axis=1)
    distances = 1 - similarity
    return distances, bank_angles[best]


def smoothness(angles):
    """Per-pair smoothness of interpolations with matched angles of shape (n_pairs, steps).

    Angles are unwrapped along the steps; the score is
    ``max |diff| / |theta_last - theta_first| - 1/(steps - 1)``, and 0 for a pair whose total
    change is below 1e-4 (the official code sets those to NaN, then divides the sum of the other
    scores by the number of pairs: the same mean).
    """
    angles = np.asarray(angles, dtype=np.float64)
    if angles.ndim != 2 or angles.shape[1] < 2:
        raise ValueError(f"angles must have shape (n_pairs, steps >= 2), got {angles.shape}")
    angles = np.unwrap(angles, axis=1)
    largest_step = np.abs(np.diff(angles, axis=1)).max(axis=1)
    total = np.abs(angles[:, -1] - angles[:, 0])
    moved = total >= _MIN_CHANGE
    ratio = np.divide(largest_step, total, out=np.zeros_like(total), where=moved)
    return np.where(moved, ratio - 1 / (angles.shape[1] - 1), 0.0)


def scores(interpolations, drawing=DEFAULT_DRAWING):
    """``{"mean_distance", "smoothness"}`` of interpolations (n_pairs, steps, size, size, 1).

    Mean Distance is the mean over all images of the cosine distance to the nearest reference
    line (drawn with ``drawing``); Smoothness the mean over pairs of :func:`smoothness` on the
    nearest lines' angles.
    Accepts numpy arrays and backend tensors.
    """
    x = _to_numpy(interpolations)
    well_formed = x.ndim == 5 and x.shape[-1] == 1 and x.shape[2] == x.shape[3]
    if not well_formed or x.shape[0] < 1 or x.shape[1] < 2:
        raise ValueError(
            f"interpolations must have shape (n_pairs >= 1, steps >= 2, size, size, 1), "
            f"got {x.shape}"
        )
    if not np.all(np.isfinite(x)):
        raise ValueError("interpolations must be finite (found NaN or inf)")
    n_pairs, steps = x.shape[:2]
    distances, angles = closest_lines(x.reshape(n_pairs * steps, *x.shape[2:]), drawing)
    return {
        "mean_distance": float(distances.mean()),
        "smoothness": float(smoothness(angles.reshape(n_pairs, steps)).mean()),
    }


def evaluate(
    model, n_pairs=256, steps=16, method="linear", batch_size=256, drawing=DEFAULT_DRAWING, seed=0
):
    """The paper's lines benchmark of ``model``: :func:`scores` of its interpolations.

    Test lines and reference lines are drawn with ``drawing`` ("official", the default, as
    for the paper's figures; or "centred": use the drawing the model was trained on).
    Line i of :func:`~keras_latent.datasets.lines.test_set` is paired with line n_pairs + i
    (i < n_pairs) and ``model.interpolate(x_a, x_b, steps=steps, method=method)`` is called on
    ``batch_size`` pairs at a time; it must return (pairs, steps, size, size, 1) with
    t = k / (steps - 1), endpoints included. Any object with such an ``interpolate`` works.
    ``seed`` goes to ``interpolate`` (one per batch, drawn from it): where the codes are random
    draws (a VAE on posterior samples, as the official evaluation), an int makes the score
    repeatable, None draws afresh. A project choice: the official code draws unseeded.
    """
    images, _ = test_set(drawing=drawing)
    if not 1 <= n_pairs <= len(images) // 2:
        raise ValueError(f"n_pairs must be in [1, {len(images) // 2}], got {n_pairs}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    x_a, x_b = images[:n_pairs], images[n_pairs : 2 * n_pairs]
    starts = range(0, n_pairs, batch_size)
    seeds = [None] * len(starts)
    if seed is not None:
        seeds = [int(s) for s in np.random.default_rng(seed).integers(2**31, size=len(starts))]
    batches = []
    for i, batch_seed in zip(starts, seeds, strict=True):
        pair = x_a[i : i + batch_size], x_b[i : i + batch_size]
        frames = model.interpolate(*pair, steps=steps, method=method, seed=batch_seed)
        batches.append(_to_numpy(frames))
    return scores(np.concatenate(batches), drawing)


def _to_numpy(x):
    return x if isinstance(x, np.ndarray) else keras.ops.convert_to_numpy(x)
