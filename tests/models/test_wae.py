"""WAE-MMD: the inverse multiquadric MMD estimate, the loss, sampling, training, saving."""

import keras
import numpy as np
import pytest

from keras_latent.models import WAE
from keras_latent.models.wae import KERNEL_SCALES, imq_mmd
from tests.helpers import TINY
from tests.models.common import fit_on_lines, lines, round_trip

pytestmark = pytest.mark.backend


def tiny_wae(**kwargs):
    return WAE(**TINY, seed=8, **kwargs)


def mmd_reference(z, p, base, scales):
    """The unbiased estimate written out with loops, in float64."""
    n = len(z)
    total = 0.0
    for s in scales:
        c = base * s

        def k(a, b, c=c):
            return c / (c + np.sum((a - b) ** 2))

        within = sum(k(z[i], z[j]) + k(p[i], p[j]) for i in range(n) for j in range(n) if i != j)
        across = sum(k(z[i], p[j]) for i in range(n) for j in range(n))
        total += within / (n * (n - 1)) - 2 * across / n**2
    return total


def test_mmd_matches_the_written_out_estimate():
    rng = np.random.default_rng(0)
    z, p = rng.normal(size=(6, 5)), rng.normal(size=(6, 5)) + 0.5
    for scales in [KERNEL_SCALES, (1.0,)]:
        got = float(imq_mmd(z.astype("float32"), p.astype("float32"), 10.0, scales))
        assert got == pytest.approx(mmd_reference(z, p, 10.0, scales), rel=1e-4, abs=1e-6)


def test_mmd_separates_distributions():
    rng = np.random.default_rng(1)
    prior = rng.normal(size=(200, 8)).astype("float32")
    same = float(imq_mmd(rng.normal(size=(200, 8)).astype("float32"), prior, 16.0))
    shifted = float(imq_mmd(rng.normal(size=(200, 8)).astype("float32") + 2.0, prior, 16.0))
    assert abs(same) < 0.05 < shifted


def test_a_batch_of_one_gives_a_finite_estimate():
    value = imq_mmd(np.zeros((1, 4), "float32"), np.ones((1, 4), "float32"), 8.0)
    assert np.isfinite(float(value))


def test_loss_is_reconstruction_plus_weighted_mmd_per_pixel():
    model = tiny_wae()
    assert model.mmd_weight == 10.0 and model.kernel_scales == KERNEL_SCALES
    x = keras.ops.convert_to_tensor(lines(8))
    total, logs = model.loss_terms(x, model(x, training=True), training=True)
    expected = float(logs["reconstruction"]) + 10.0 / 1024 * float(logs["mmd"])
    assert float(total) == pytest.approx(expected, rel=1e-5)


def test_sample_decodes_prior_draws_with_its_scale():
    model = tiny_wae(prior_std=2.0)
    z = 2.0 * np.random.default_rng(4).standard_normal((3, model.latent_size))
    np.testing.assert_allclose(model.sample(3, seed=4), model.decode(z), atol=1e-5)


def test_fit_on_lines_lowers_the_loss():
    logs = fit_on_lines(tiny_wae())
    assert set(logs) >= {"reconstruction", "mmd"}
    assert logs["reconstruction"][-1] < 0.7 * logs["reconstruction"][0]
    assert logs["loss"][-1] < 0.7 * logs["loss"][0]


def test_keras_round_trip(tmp_path):
    model = tiny_wae(mmd_weight=3.0, kernel_scales=(1.0,), prior_std=0.5)
    loaded = round_trip(model, tmp_path / "wae.keras", lines(8))
    assert (loaded.mmd_weight, loaded.kernel_scales, loaded.prior_std) == (3.0, (1.0,), 0.5)


@pytest.mark.parametrize(
    "kwargs, error",
    [
        (dict(mmd_weight=-1.0), ValueError),
        (dict(kernel_scales=()), ValueError),
        (dict(kernel_scales=(1.0, 0.0)), ValueError),
        (dict(kernel_scales=1.0), TypeError),
        (dict(prior_std=0.0), ValueError),
    ],
)
def test_bad_hyperparameters_are_refused(kwargs, error):
    with pytest.raises(error, match=next(iter(kwargs))):
        tiny_wae(**kwargs)
