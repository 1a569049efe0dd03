"""Fréchet distance: closed forms, symmetry, singular covariances and bad input."""

import keras
import numpy as np
import pytest

from keras_latent.metrics.frechet import (
    feature_statistics,
    frechet_distance,
    frechet_distance_images,
    trace_sqrt_product,
)


def random_covariance(d, seed, rank=None):
    a = np.random.default_rng(seed).normal(size=(d, rank or d))
    return a @ a.T / d


def rotation(d, seed):
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(d, d)))
    return q


def test_identical_statistics_give_zero():
    mu, sigma = np.arange(6.0), random_covariance(6, 0)
    assert frechet_distance(mu, sigma, mu, sigma) == pytest.approx(0.0, abs=1e-9)


def test_diagonal_gaussians_closed_form():
    rng = np.random.default_rng(0)
    mu1, mu2 = rng.normal(size=5), rng.normal(size=5)
    a, b = rng.uniform(0.1, 4.0, 5), rng.uniform(0.1, 4.0, 5)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected)
    # the same Gaussians in a rotated basis: sqrtm of a non-diagonal product
    r = rotation(5, 1)
    rotated = frechet_distance(r @ mu1, r @ np.diag(a) @ r.T, r @ mu2, r @ np.diag(b) @ r.T)
    assert rotated == pytest.approx(expected, rel=1e-8)


def test_one_dimension():
    assert frechet_distance([1.0], [[4.0]], [3.0], [[9.0]]) == pytest.approx(4.0 + 1.0)


def test_symmetric_in_its_arguments():
    mu1, mu2 = np.zeros(8), np.ones(8)
    s1, s2 = random_covariance(8, 1), random_covariance(8, 2)
    d12, d21 = frechet_distance(mu1, s1, mu2, s2), frechet_distance(mu2, s2, mu1, s1)
    assert d12 == pytest.approx(d21, rel=1e-9) and d12 > 8.0


def test_singular_covariances():
    # rank 2 in 10 dimensions: the product S1 S2 is singular
    s1, s2 = random_covariance(10, 3, rank=2), random_covariance(10, 4, rank=2)
    mu = np.zeros(10)
    value = frechet_distance(mu, s1, mu, s2)
    assert np.isfinite(value) and value > 0
    assert frechet_distance(mu, s1, mu, s1) == pytest.approx(0.0, abs=1e-5)
    # close to the distance of slightly regularised, full-rank versions
    eye = 1e-9 * np.eye(10)
    assert value == pytest.approx(frechet_distance(mu, s1 + eye, mu, s2 + eye), rel=1e-3)
    zero = np.zeros((10, 10))  # degenerate Gaussians: only the means count
    assert frechet_distance(mu, zero, mu + 1.0, zero) == pytest.approx(10.0, rel=1e-5)


def test_trace_sqrt_product_matches_eigenvalues():
    s1, s2 = random_covariance(6, 5), random_covariance(6, 6)
    eigenvalues = np.linalg.eigvals(s1 @ s2).real
    expected = np.sum(np.sqrt(np.clip(eigenvalues, 0, None)))
    assert trace_sqrt_product(s1, s2) == pytest.approx(expected, rel=1e-8)


def test_feature_statistics():
    features = np.random.default_rng(0).normal(size=(50, 2, 3))  # flattened to 6
    mu, sigma = feature_statistics(features)
    flat = features.reshape(50, 6)
    np.testing.assert_allclose(mu, flat.mean(axis=0))
    np.testing.assert_allclose(sigma, np.cov(flat, rowvar=False))
    assert feature_statistics(np.ones((2, 1)))[1].shape == (1, 1)


def test_sample_statistics_of_one_distribution_are_close():
    rng = np.random.default_rng(0)
    a = feature_statistics(rng.normal(size=(4000, 4)))
    b = feature_statistics(rng.normal(size=(4000, 4)))
    c = feature_statistics(rng.normal(size=(4000, 4)) * 2 + 1)
    assert frechet_distance(*a, *b) < 0.02 and frechet_distance(*a, *c) > 4.0


def test_bad_input():
    mu, sigma = np.zeros(3), np.eye(3)
    with pytest.raises(ValueError, match="feature sizes differ"):
        frechet_distance(mu, sigma, np.zeros(4), np.eye(4))
    with pytest.raises(ValueError, match="covariance \\(d, d\\)"):
        frechet_distance(mu, np.eye(4), mu, sigma)
    with pytest.raises(ValueError, match="NaN"):
        frechet_distance(mu, np.full((3, 3), np.nan), mu, sigma)
    with pytest.raises(ValueError, match="not symmetric"):
        frechet_distance(mu, np.triu(np.ones((3, 3))), mu, sigma)
    with pytest.raises(ValueError, match="not positive semi-definite"):
        frechet_distance(mu, -np.eye(3), mu, np.eye(3))
    with pytest.raises(ValueError, match="at least 2 feature vectors"):
        feature_statistics(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="NaN"):
        feature_statistics(np.array([[0.0], [np.nan]]))


@pytest.mark.backend
def test_images_with_a_user_feature_model(random_images):
    features = keras.Sequential([keras.Input((32, 32, 1)), keras.layers.AveragePooling2D(8)])
    flat = keras.Sequential([features, keras.layers.Flatten()])
    x, y = random_images(64, seed=1), random_images(64, seed=2) * 0.5
    value = frechet_distance_images(x, y, feature_model=flat)
    pooled = [keras.ops.convert_to_numpy(flat(v)) for v in (x, y)]
    expected = frechet_distance(*feature_statistics(pooled[0]), *feature_statistics(pooled[1]))
    assert value == pytest.approx(expected, rel=1e-5) and value > 0
    with pytest.raises(ValueError, match="x_fake must hold at least 2 images"):
        frechet_distance_images(x, y[:1], feature_model=flat)


def test_failed_square_root_is_retried_with_eps(monkeypatch):
    import scipy.linalg

    from keras_latent.metrics import frechet

    real_sqrtm, calls = scipy.linalg.sqrtm, []

    def first_call_fails(a):
        calls.append(a)
        return np.full_like(a, np.nan) if len(calls) == 1 else real_sqrtm(a)

    monkeypatch.setattr(frechet.scipy.linalg, "sqrtm", first_call_fails)
    a, b = np.array([1.0, 4.0]), np.array([9.0, 1.0])
    with pytest.warns(RuntimeWarning, match="added 3.75e-06 I"):  # 1e-6 x mean variance
        value = frechet_distance(np.zeros(2), np.diag(a), np.zeros(2), np.diag(b), eps=1e-6)
    np.testing.assert_allclose(calls[1], np.diag((a + 3.75e-6) * (b + 3.75e-6)))
    assert value == pytest.approx(np.sum((np.sqrt(a) - np.sqrt(b)) ** 2), rel=1e-5)
