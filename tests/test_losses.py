"""eccentric_loss: definition, numerics, memory, and the minimiser's geometry (the paper's claims).

The minimiser tests run plain gradient descent (SGD through Keras' ``fit``, so the same code
path on every backend) on the loss alone, from Gaussian random points.
"""

import math

import keras
import numpy as np
import pytest

from keras_latent.losses import EPSILON, eccentric_loss, eccentric_radius
from tests.helpers import gradients, run_in_backend

pytestmark = pytest.mark.backend


def reference(z, power, attraction):
    """Loss and gradient in float64 numpy, by direct pairwise differences."""
    z = np.asarray(z, "float64").reshape(len(z), -1)
    n = len(z)
    diff = z[:, None] - z[None]
    squared = (diff**2).sum(-1)
    np.fill_diagonal(squared, 1.0)
    phi = -0.5 * np.log(squared) if power == 0 else squared ** (-power / 2) / power
    np.fill_diagonal(phi, 0.0)
    weights = -0.5 * squared ** (-power / 2 - 1)  # d phi / d r^2
    np.fill_diagonal(weights, 0.0)
    pairs = max(n * (n - 1), 1)
    value = phi.sum() / pairs + attraction / 2 * (z**2).sum(1).mean()
    grad = 4 / pairs * (weights[:, :, None] * diff).sum(1) + attraction / n * z
    return value, grad


def value_and_grad(z, **kwargs):
    variable = keras.Variable(np.asarray(z, "float32"))
    value = float(eccentric_loss(variable, **kwargs))
    (grad,) = gradients(lambda: eccentric_loss(variable, **kwargs), [variable])
    return value, grad


@pytest.mark.parametrize("power", [0.0, 1.0, 2.5])
@pytest.mark.parametrize("chunk_size", [None, 1, 7, 37, 1000])
def test_matches_the_definition_chunked_or_not(power, chunk_size):
    z = np.random.default_rng(0).normal(size=(37, 2, 2, 3)).astype("float32")  # spatial codes
    value, grad = value_and_grad(z, power=power, attraction=0.7, chunk_size=chunk_size)
    ref_value, ref_grad = reference(z, power, 0.7)
    assert value == pytest.approx(ref_value, rel=1e-5)
    np.testing.assert_allclose(grad.reshape(37, -1), ref_grad, rtol=1e-4, atol=1e-7)


def test_chunked_equals_unchunked_inside_a_traced_tensorflow_function():
    """TensorFlow traces fit's step with an unknown batch size: the blocks are then mapped."""
    if keras.backend.backend() != "tensorflow":
        pytest.skip("unknown batch sizes arise in TensorFlow's traced functions only")
    import tensorflow as tf

    z = np.random.default_rng(1).normal(size=(37, 12)).astype("float32")
    for chunk_size in (None, 5):

        @tf.function(input_signature=[tf.TensorSpec((None, 12))])
        def traced(codes, chunk_size=chunk_size):
            with tf.GradientTape() as tape:
                tape.watch(codes)
                loss = eccentric_loss(codes, 1.0, 0.7, chunk_size=chunk_size)
            return loss, tape.gradient(loss, codes)

        value, grad = traced(z)
        ref_value, ref_grad = reference(z, 1.0, 0.7)
        assert float(value) == pytest.approx(ref_value, rel=1e-5)
        np.testing.assert_allclose(grad.numpy(), ref_grad, rtol=1e-4, atol=1e-7)
        value, grad = traced(z[:1])  # a batch of one: attraction only
        assert float(value) == pytest.approx(0.35 * np.sum(z[0] ** 2), rel=1e-5)
        np.testing.assert_allclose(grad.numpy(), 0.7 * z[:1], rtol=1e-5)


@pytest.mark.parametrize("power", [0.0, 1.0, 2.0])
def test_duplicates_and_a_batch_of_one_are_finite(power):
    z = np.random.default_rng(2).normal(size=(5, 4)).astype("float32")
    duplicates = np.concatenate([z, z[:2]])  # two exact duplicate pairs
    value, grad = value_and_grad(duplicates, power=power)
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    # A duplicate pair sits at the floor distance sqrt(EPSILON): a large, finite energy.
    if power > 0:
        assert value > (EPSILON ** (-power / 2) / power) * 4 / (7 * 6)
    # A batch of one has no pairs: only the attraction, whose gradient is attraction * z / 1.
    value, grad = value_and_grad(z[:1], power=power, attraction=2.0)
    assert value == pytest.approx(np.sum(z[0] ** 2), rel=1e-5)
    np.testing.assert_allclose(grad, 2.0 * z[:1], rtol=1e-5)
    zeros = np.zeros((3, 4), "float32")  # every point at the origin, all coincident
    value, grad = value_and_grad(zeros, power=power)
    assert np.isfinite(value) and np.all(np.isfinite(grad))


def test_half_precision_codes_are_computed_in_float32():
    z = np.random.default_rng(3).normal(size=(9, 4))
    low = float(eccentric_loss(keras.ops.cast(z, "float16")))
    assert low == pytest.approx(reference(z.astype("float16"), 1.0, 1.0)[0], rel=1e-4)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(power=-1.0), ValueError, "power must be >= 0"),
        (dict(power=float("nan")), ValueError, "power must be finite"),
        (dict(power="1"), TypeError, "power must be a real number"),
        (dict(attraction=0.0), ValueError, "attraction must be > 0"),
        (dict(attraction=-2.0), ValueError, "attraction must be > 0"),
        (dict(chunk_size=0), ValueError, "chunk_size"),
        (dict(chunk_size=2.5), TypeError, "chunk_size"),
    ],
)
def test_bad_arguments_are_refused(kwargs, error, message):
    with pytest.raises(error, match=message):
        eccentric_loss(np.zeros((4, 2), "float32"), **kwargs)


def test_bad_codes_are_refused():
    with pytest.raises(ValueError, match="rank >= 2"):
        eccentric_loss(np.zeros(4, "float32"))
    with pytest.raises(TypeError, match="floating-point"):
        eccentric_loss(np.zeros((4, 2), "int32"))


def test_memory_is_bounded_at_large_batches(tmp_path):
    """Value and gradient at B = 4096 stay far below the size of even one B x B matrix set.

    A float32 B x B matrix is 64 MiB here; automatic differentiation of the unchunked loss keeps
    several (measured: 340 to 420 MiB of peak growth on the three backends). In blocks of 256
    rows with the block-wise gradient, the growth measured 15 to 100 MiB; the bound is 160 MiB.
    """
    code = """
import resource
import numpy as np, keras
from keras_latent.losses import eccentric_loss
from tests.helpers import gradients
rng = np.random.default_rng(0)
warm = keras.Variable(rng.normal(size=(300, 64)).astype("float32"))
gradients(lambda: eccentric_loss(warm, chunk_size=128), [warm])
z = keras.Variable(rng.normal(size=(4096, 64)).astype("float32"))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
(grad,) = gradients(lambda: eccentric_loss(z, chunk_size=256), [z])
assert np.all(np.isfinite(grad))
print("growth_mib", (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024)
"""
    output = run_in_backend(keras.backend.backend(), code)
    growth = float(output.split("growth_mib")[1])
    assert growth < 160, f"peak memory grew by {growth:.0f} MiB"


# ------------------------------------------------------------------------- the minimiser
def minimise(n, dim, power, attraction=1.0, steps=200, seed=0):
    """Plain gradient descent on ``eccentric_loss`` alone; returns the final points (n, dim).

    The gradient of a mean over items is O(1/n) per item and the loss's curvature scales with
    ``attraction``, so the step is ``0.5 * n / attraction``.
    """

    class Points(keras.Model):
        def __init__(self):
            super().__init__()
            init = keras.initializers.RandomNormal(stddev=0.5, seed=seed)
            self.z = self.add_weight(shape=(n, dim), initializer=init, name="z")

        def call(self, x):
            return x

        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
            return eccentric_loss(self.z, power, attraction)

    points = Points()
    points.compile(optimizer=keras.optimizers.SGD(0.5 * n / attraction))
    points.fit(np.zeros((steps, 1), "float32"), batch_size=1, verbose=0, shuffle=False)
    return keras.ops.convert_to_numpy(points.z.value).astype("float64")


def spread(z):
    radii = np.linalg.norm(z, axis=1)
    return radii.std() / radii.mean()


def test_log_kernel_gives_a_hypersphere_of_radius_one_over_sqrt_attraction():
    z = minimise(200, 8, power=0.0, attraction=2.0)  # d = 8 >= s + 4
    assert spread(z) < 0.01
    # Exact at every stationary point: attraction * mean ||z||^2 = 1.
    assert np.mean(np.sum(z**2, axis=1)) == pytest.approx(0.5, rel=1e-3)
    assert np.linalg.norm(z, axis=1).mean() == pytest.approx(eccentric_radius(8, 0.0, 2.0), 1e-3)
    # The same radius from a batch four times smaller: means over pairs do not scale with B.
    small = minimise(50, 8, power=0.0, attraction=2.0, seed=1)
    assert spread(small) < 0.01
    assert np.mean(np.sum(small**2, axis=1)) == pytest.approx(0.5, rel=1e-3)


@pytest.mark.parametrize("dim", [5, 12])
def test_coulomb_kernel_gives_a_hypersphere_at_the_closed_form_radius(dim):
    z = minimise(200, dim, power=1.0)  # d >= s + 4
    assert spread(z) < 0.01
    radii = np.linalg.norm(z, axis=1)
    # Stationarity (scaling argument): attraction * mean ||z||^2 = mean_{i != j} 1 / r_ij.
    distances = np.linalg.norm(z[:, None] - z[None], axis=-1)[~np.eye(200, dtype=bool)]
    assert np.mean(radii**2) == pytest.approx(np.mean(1 / distances), rel=1e-3)
    # The many-item limit; a finite batch settles within 1% inside it (0.7% at d = 5, n = 200).
    limit = eccentric_radius(dim, 1.0, 1.0)
    assert 0.99 * limit < radii.mean() < limit
    # Batch-size independence: n = 50 gives a radius within 1.5% of n = 200's (a sum over
    # pairs instead of a mean would scale it by (200 / 50)^(1/3) = 1.59).
    small = np.linalg.norm(minimise(50, dim, power=1.0, seed=1), axis=1)
    assert small.mean() == pytest.approx(radii.mean(), rel=0.015)


@pytest.mark.parametrize(
    "dim, power, uniform_spread",
    [
        # Uniform disc: radii have std / mean = sqrt(1/2 - 4/9) / (2/3) = 0.354.
        (2, 0.0, 0.354),
        # Uniform 3-ball: sqrt(3/5 - 9/16) / (3/4) = 0.258.
        (3, 1.0, 0.258),
    ],
)
def test_low_dimensions_give_a_ball_not_a_sphere(dim, power, uniform_spread):
    z = minimise(200, dim, power=power)  # d = s + 2: the minimiser fills a ball uniformly
    assert spread(z) == pytest.approx(uniform_spread, abs=0.02)
    if power == 0:  # the log kernel's identity holds in every dimension
        assert np.mean(np.sum(z**2, axis=1)) == pytest.approx(1.0, rel=1e-3)
    with pytest.raises(ValueError, match="hypersphere only for dim >= power \\+ 4"):
        eccentric_radius(dim, power)


def test_closed_form_radius():
    # E|u - v|^-1 on the unit sphere S^4 is 4/5, so R^3 = 0.8 at d = 5.
    assert eccentric_radius(5, 1.0, 1.0) == pytest.approx(0.8 ** (1 / 3))
    # s = 2: E|u - v|^-2 = (d - 2) / (2 (d - 3)); attraction scales R by a^(-1/(s+2)).
    assert eccentric_radius(8, 2.0, 3.0) == pytest.approx((0.6 / 3.0) ** 0.25)
    assert eccentric_radius(6, 0.0, 4.0) == 0.5
    assert math.isclose(eccentric_radius(10_000, 1.0), 2 ** (-1 / 6), rel_tol=1e-3)  # r -> sqrt2
    with pytest.raises(ValueError, match="dim"):
        eccentric_radius(0)


# ----------------------------------------------------------------- as a regulariser
def regularised_codes(targets, weight, steps=300):
    """Codes minimising ``mean_i ||z_i - y_i||^2 / 2 + weight * eccentric_loss(z)`` from z = y.

    A fit term pulls each code toward its (eccentric) target, the regulariser toward a
    hypersphere: the trade-off an autoencoder's reconstruction term makes with it.
    """
    n, dim = targets.shape
    target = keras.ops.convert_to_tensor(targets.astype("float32"))

    class Codes(keras.Model):
        def __init__(self):
            super().__init__()
            init = keras.initializers.Constant(targets.astype("float32"))
            self.z = self.add_weight(shape=(n, dim), initializer=init, name="z")

        def call(self, x):
            return x

        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
            fit = 0.5 * keras.ops.mean(keras.ops.sum(keras.ops.square(self.z - target), axis=1))
            return fit + weight * eccentric_loss(self.z)

    codes = Codes()
    codes.compile(optimizer=keras.optimizers.SGD(0.5 * n / (1 + weight)))
    codes.fit(np.zeros((steps, 1), "float32"), batch_size=1, verbose=0, shuffle=False)
    return keras.ops.convert_to_numpy(codes.z.value).astype("float64")


def test_a_lower_weight_tolerates_a_more_eccentric_distribution():
    """The fast, synthetic form of the paper's claim (the MNIST one is tests/models, slow).

    Targets: 200 Gaussian codes in d = 8 with standard deviations 2 * 0.7^k, eccentricity
    (largest / smallest principal variance) 134. Measured: weight 10 -> 3.8 (nearly a
    sphere), 1 -> 83, 0.1 -> 131 (ratios 22 and 1.6; asserted: 3 and 1.3).
    """
    from keras_latent.principal_components import principal_components

    rng = np.random.default_rng(0)
    targets = rng.normal(size=(200, 8)) * 2.0 * 0.7 ** np.arange(8)
    eccentricity = {
        w: principal_components(regularised_codes(targets, w)).eccentricity
        for w in (10.0, 1.0, 0.1)
    }
    assert eccentricity[10.0] < 6.0
    assert eccentricity[1.0] > 3.0 * eccentricity[10.0]
    assert eccentricity[0.1] > 1.3 * eccentricity[1.0]
    assert eccentricity[0.1] < principal_components(targets).eccentricity * 1.01
