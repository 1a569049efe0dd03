"""Loss functions in pure ``keras.ops``: one code path for TensorFlow, JAX and PyTorch.

``eccentric_loss`` is the eccentric regularizer of Li and Blair ("Eccentric Regularization:
Minimizing Hyperspherical Energy without explicit projection", IJCNN 2022, arXiv 2104.11610):
a pairwise repulsion between the items of a batch and an attraction of each item toward the
origin. The paper's exact kernel could not be checked here; the definition implemented, and
the facts about its minimiser that were verified numerically, are stated in the docstrings.
"""

import math
import numbers

import keras
from keras import ops

# Floor of the squared pairwise distances (distances below 1e-4 are treated as 1e-4). In
# float32 the Gram form ||a||^2 + ||b||^2 - 2 a.b carries a rounding error of about
# 1e-7 * (||a||^2 + ||b||^2), so closer pairs of unit-scale codes are not resolved anyway; the
# floor keeps coincident points finite (value and gradient) instead of infinite.
EPSILON = 1e-8
DEFAULT_CHUNK_SIZE = 1024


def eccentric_loss(z, power=1.0, attraction=1.0, chunk_size=DEFAULT_CHUNK_SIZE):
    """Eccentric regularization of a batch of codes ``z`` (``(B, ...)``, flattened per example).

    ``L(z) = mean_{i != j} phi(||z_i - z_j||) + (attraction / 2) * mean_i ||z_i||^2``

    with ``phi(r) = r^-s / s`` for ``s = power > 0`` (``s = 1``: Coulomb/Thomson energy) and
    ``phi(r) = -log r`` for ``s = 0``. The first mean runs over the ``B (B - 1)`` ordered pairs
    of distinct items; a batch of one has no pairs, so its repulsion term is 0.

    Minimiser (the loss alone, gradient descent from random points; verified numerically with
    B = 50 and 200 and by the tests):

    - Scaling ``z -> lambda z`` shows that at any stationary point
      ``attraction * mean ||z||^2 = mean_{i != j} ||z_i - z_j||^-s``. For the log kernel this is
      exactly ``mean ||z||^2 = 1 / attraction``, for every dimension and batch size.
    - For ``d >= s + 4`` the items settle on a hypersphere (relative spread of the radii below
      0.1% at B = 200), of radius ``eccentric_radius(d, s, attraction)``. With means over
      pairs the radius does not grow with the batch: exactly so for ``s = 0``; for ``s > 0``
      it approaches the continuous limit from below (d = 5, s = 1: 0.912 at B = 50, 0.922 at
      B = 200, limit 0.928), where a sum over pairs would scale it by ``B^(1/(s+2))``.
    - For ``d <= s + 2`` the minimiser fills a ball (d = 2, s = 0: the uniform disc, radii
      spread 0.35; d = 3, s = 1: the uniform ball, spread 0.25). In between
      (``s + 2 < d < s + 4``) it is neither (spread 0.14 to 0.2 here). These thresholds agree
      with the Riesz equilibrium problem with a quadratic external field (Chafai, Saff and
      Womersley, 2022).

    Numerics: squared distances are computed in the Gram form
    ``||z_i||^2 + ||z_j||^2 - 2 z_i . z_j`` (matrix products) and clamped below at
    ``EPSILON = 1e-8``; the diagonal is replaced by 1 *before* the power or the log and its
    terms are then zeroed, so duplicate points and a batch of one give finite values and
    gradients (for ``power <= 9`` in float32, where ``1e4^s`` is representable). Codes in
    half precision are computed in float32. The cost is ``O(B^2 d)`` time; memory is bounded by
    processing ``chunk_size`` rows at a time against all ``B`` columns (``O(chunk_size * B)``
    per block instead of ``O(B^2)``; ``chunk_size=None``: all rows at once).

    Args:
        z: codes, shape ``(B, ...)`` with ``B >= 1``.
        power: ``s >= 0``, the exponent of the repulsion kernel (0: logarithmic).
        attraction: ``> 0``, the strength of the quadratic pull toward the origin.
        chunk_size: rows per block of the pairwise computation (a positive int or None).

    Returns:
        A scalar tensor.
    """
    power, attraction = check_eccentric_arguments(power, attraction)
    chunk_size = check_chunk_size(chunk_size)
    z = ops.convert_to_tensor(z)
    if len(z.shape) < 2:
        raise ValueError(
            f"z must be a batch of codes of shape (batch, ...) with rank >= 2; got shape "
            f"{tuple(z.shape)}"
        )
    dtype = keras.backend.standardize_dtype(z.dtype)
    if not dtype.startswith(("float", "bfloat")):
        raise TypeError(f"z must be a floating-point tensor, got dtype {dtype}")
    if dtype in ("float16", "bfloat16"):
        z = ops.cast(z, "float32")
    if any(size is None for size in z.shape[1:]):
        raise ValueError(f"z must have known non-batch dimensions, got {tuple(z.shape)}")
    dim = math.prod(z.shape[1:])
    z = ops.reshape(z, (-1, dim))

    repulsion = _mean_over_pairs(z, power, chunk_size)
    return repulsion + 0.5 * attraction * ops.mean(ops.sum(ops.square(z), axis=1))


def eccentric_radius(dim, power=1.0, attraction=1.0):
    """Radius of the hypersphere that minimises ``eccentric_loss`` alone, for ``dim >= power + 4``.

    Log kernel (``power = 0``): ``1 / sqrt(attraction)``, exact for every batch size. For
    ``s = power > 0``: the many-item limit ``R = (c_{d,s} / attraction)^(1 / (s + 2))``, from
    ``attraction * R^2 = E|u - v|^-s`` for ``u, v`` uniform on the sphere of radius R, with
    ``c_{d,s} = E|u - v|^-s`` on the unit sphere
    ``= 2^(d-2-s) Gamma(d/2) Gamma((d-1-s)/2) / (sqrt(pi) Gamma(d-1-s/2))``. A finite batch
    settles slightly inside it (0.7% at d = 5, s = 1, B = 200).

    Raises ValueError for ``dim < power + 4``, where the minimiser is not a hypersphere.
    """
    power, attraction = check_eccentric_arguments(power, attraction)
    if not isinstance(dim, numbers.Integral) or dim < 1:
        raise ValueError(f"dim must be a positive integer, got {dim!r}")
    if dim < power + 4:
        raise ValueError(
            f"the minimiser of eccentric_loss is a hypersphere only for dim >= power + 4 "
            f"(got dim {dim}, power {power:g}); for dim <= power + 2 it fills a ball"
        )
    if power == 0:
        return 1.0 / math.sqrt(attraction)
    d, s = dim, power
    log_c = (
        (d - 2 - s) * math.log(2.0)
        + math.lgamma(d / 2)
        + math.lgamma((d - 1 - s) / 2)
        - 0.5 * math.log(math.pi)
        - math.lgamma(d - 1 - s / 2)
    )
    return math.exp((log_c - math.log(attraction)) / (s + 2))


def check_eccentric_arguments(power, attraction):
    """``(power, attraction)`` as floats, or a clear error: ``power >= 0``, ``attraction > 0``."""
    values = []
    for name, value in (("power", power), ("attraction", attraction)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{name} must be a real number, got {value!r}")
        if not math.isfinite(value):
            raise ValueError(f"{name} must be finite, got {value!r}")
        values.append(float(value))
    power, attraction = values
    if power < 0:
        raise ValueError(f"power must be >= 0 (0: logarithmic kernel), got {power:g}")
    if attraction <= 0:
        raise ValueError(f"attraction must be > 0, got {attraction:g}")
    return power, attraction


def check_weight(weight, name="weight"):
    """A regularisation factor as a float, or a clear error: finite and ``>= 0``."""
    if isinstance(weight, bool) or not isinstance(weight, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {weight!r}")
    if not math.isfinite(weight) or weight < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {weight!r}")
    return float(weight)


def check_chunk_size(chunk_size):
    """``chunk_size`` as an int (or None), or a clear error."""
    if chunk_size is None:
        return None
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, numbers.Integral):
        raise TypeError(f"chunk_size must be a positive integer or None, got {chunk_size!r}")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer or None, got {chunk_size}")
    return int(chunk_size)


def _kernel(squared_distances, power):
    """``phi(r)`` from ``r^2``: ``r^-s / s`` (s > 0) or ``-log r`` (s = 0)."""
    if power == 0:
        return -0.5 * ops.log(squared_distances)
    return ops.power(squared_distances, -0.5 * power) / power


def _mean_over_pairs(z, power, chunk_size):
    """``mean_{i != j} phi(||z_i - z_j||)`` and its gradient, both in blocks of rows.

    The gradient is computed block by block as well (``ops.custom_gradient``), instead of by
    automatic differentiation, which would keep every block's ``(rows, B)`` intermediates for
    the backward pass: with ``w_ij = phi'(r^2)|_{r_ij^2}`` (0 on the diagonal and where the floor
    is active), ``d/dz_i = 4 / (B (B - 1)) * sum_j w_ij (z_i - z_j)``. First-order gradients only.
    """
    n = ops.shape(z)[0]
    static = isinstance(n, int)
    pairs = max(n * (n - 1), 1) if static else ops.maximum(n * (n - 1), 1)
    if chunk_size is None:
        size = n
    else:
        size = min(chunk_size, n) if static else ops.minimum(chunk_size, n)

    def blocks(block_fn, z):
        """``block_fn`` on each block of rows: a list (static batch) or a stacked tensor."""
        norms = ops.sum(ops.square(z), axis=1)
        if static:
            return [block_fn(z, norms, start) for start in range(0, n, size)]
        return ops.map(lambda start: block_fn(z, norms, start), ops.arange(0, n, size))

    def pair_terms(z, norms, start):
        rows = start + ops.arange(size)
        valid = rows < n  # the last block may run past the batch
        rows = ops.minimum(rows, n - 1)
        z_rows = ops.take(z, rows, axis=0)
        squared = (
            ops.take(norms, rows, axis=0)[:, None]
            + norms[None, :]
            - 2.0 * ops.matmul(z_rows, ops.transpose(z))
        )
        keep = ops.logical_and(valid[:, None], ops.not_equal(rows[:, None], ops.arange(n)[None, :]))
        # Replace the diagonal (and rows past the batch) before any power or log.
        safe = ops.where(keep, ops.maximum(squared, EPSILON), ops.ones_like(squared))
        return z_rows, squared, keep, safe

    def block_value(z, norms, start):
        _, _, keep, safe = pair_terms(z, norms, start)
        return ops.sum(ops.where(keep, _kernel(safe, power), ops.zeros_like(safe)))

    def block_gradient(z, norms, start):
        z_rows, squared, keep, safe = pair_terms(z, norms, start)
        # phi'(u) = -u^(-s/2 - 1) / 2 for both kernels (u = r^2); 0 where clamped or masked.
        active = ops.logical_and(keep, squared > EPSILON)
        weights = ops.where(active, -0.5 * ops.power(safe, -0.5 * power - 1.0), 0.0)
        return ops.sum(weights, axis=1)[:, None] * z_rows - ops.matmul(weights, z)

    @ops.custom_gradient
    def mean_over_pairs(z):
        # Through stop_gradient, TensorFlow's eager tape does not record (and keep) the blocks.
        z = ops.stop_gradient(z)
        values = blocks(block_value, z)
        total = sum(values) if static else ops.sum(values)
        scale = 1.0 / ops.cast(pairs, z.dtype)

        def gradient(*args, upstream=None):
            if upstream is None:  # TensorFlow and JAX pass only the upstream gradient
                (upstream,) = args
            if static:
                rows = ops.concatenate(blocks(block_gradient, z), axis=0)[:n]
            else:
                rows = ops.reshape(blocks(block_gradient, z), (-1, ops.shape(z)[1]))[:n]
            return upstream * (4.0 * scale) * rows

        return total * scale, gradient

    return mean_over_pairs(z)
