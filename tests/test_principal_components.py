"""Principal components of latent codes: ordering, values, transforms and bad input."""

import numpy as np
import pytest

from keras_latent.principal_components import principal_components


def anisotropic_codes(n=4000, scales=(3.0, 2.0, 1.0, 0.5), seed=0):
    """Gaussian codes with known standard deviations along a random rotation, shape (n, 2, 2)."""
    rng = np.random.default_rng(seed)
    rotation, _ = np.linalg.qr(rng.normal(size=(len(scales), len(scales))))
    flat = (rng.normal(size=(n, len(scales))) * scales) @ rotation.T + 5.0
    return flat.reshape(n, 2, 2).astype("float32"), rotation


def test_components_are_the_covariance_eigenvectors_by_decreasing_variance():
    codes, rotation = anisotropic_codes()
    pcs = principal_components(codes)
    assert pcs.latent_shape == (2, 2) and pcs.rank == 4
    np.testing.assert_allclose(pcs.variances, [9.0, 4.0, 1.0, 0.25], rtol=0.06)
    assert np.all(np.diff(pcs.variances) < 0)
    np.testing.assert_allclose(pcs.mean, 5.0, atol=0.1)
    # Orthonormal rows that match the generating axes up to sign.
    np.testing.assert_allclose(pcs.components @ pcs.components.T, np.eye(4), atol=1e-10)
    np.testing.assert_allclose(np.abs(pcs.components @ rotation), np.eye(4), atol=0.05)
    assert pcs.eccentricity == pytest.approx(36.0, rel=0.12)
    assert pcs.explained_variance_ratio.sum() == pytest.approx(1.0)
    assert pcs.effective_dimension == pytest.approx(14.25**2 / (81 + 16 + 1 + 1 / 16), rel=0.1)
    # Exactly the eigen-decomposition of numpy's covariance.
    covariance = np.cov(codes.reshape(len(codes), -1).astype("float64"), rowvar=False)
    np.testing.assert_allclose(
        pcs.components.T @ np.diag(pcs.variances) @ pcs.components, covariance, atol=1e-8
    )


def test_project_latents_and_traverse():
    codes, _ = anisotropic_codes(n=500)
    pcs = principal_components(codes)
    coordinates = pcs.project(codes)
    assert coordinates.shape == (500, 4)
    np.testing.assert_allclose(pcs.latents(coordinates), codes, atol=1e-4)  # lossless with all
    np.testing.assert_allclose(coordinates.var(axis=0, ddof=1), pcs.variances, rtol=1e-8)
    assert pcs.project(codes, k=2).shape == (500, 2)
    path = pcs.traverse(1, steps=5, extent=2.0)
    assert path.shape == (5, 2, 2)
    offsets = path.reshape(5, -1) - pcs.mean
    np.testing.assert_allclose(offsets @ pcs.components[0], 0.0, atol=1e-5)  # along v_1 only
    np.testing.assert_allclose(
        offsets @ pcs.components[1], np.linspace(-2, 2, 5) * np.sqrt(pcs.variances[1]), atol=1e-5
    )


def test_rank_deficient_covariance_is_refused_unless_allowed():
    codes, _ = anisotropic_codes(n=300)
    flat = codes.reshape(300, 4)
    degenerate = np.concatenate([flat, flat[:, :1] - flat[:, 1:2]], axis=1)  # linear dependence
    with pytest.raises(ValueError, match="rank-deficient: numerical rank 4 of 5"):
        principal_components(degenerate)
    pcs = principal_components(degenerate, allow_singular=True)
    assert pcs.rank == 4 and pcs.eccentricity > 1e6
    constant = np.concatenate([flat, np.full((300, 1), 2.0)], axis=1)  # a dead latent unit
    with pytest.raises(ValueError, match="rank-deficient"):
        principal_components(constant)
    assert principal_components(constant, allow_singular=True).eccentricity == float("inf")
    with pytest.raises(ValueError, match=r"rank at most 3 < 4: use at least 5 codes"):
        principal_components(flat[:4])
    assert principal_components(flat[:4], allow_singular=True).rank == 3


@pytest.mark.parametrize(
    "bad, error, message",
    [
        (np.full((10, 3), np.nan), ValueError, "NaN or infinite values \\(10 of 10"),
        (np.array([[1.0, np.inf], [0.0, 1.0], [2.0, 1.0]]), ValueError, "1 of 3 codes"),
        (np.zeros((5,)), ValueError, "shape \\(n, ...\\)"),
        (np.zeros((0, 3)), ValueError, "empty"),
        (np.array([["a", "b"]]), TypeError, "numeric"),
        (np.zeros((1, 3)), ValueError, "at least 2 codes"),
        (np.ones((10, 3)), ValueError, "identical"),
    ],
)
def test_bad_codes_get_clear_errors(bad, error, message):
    with pytest.raises(error, match=message):
        principal_components(bad, allow_singular=True)


def test_bad_transform_arguments():
    pcs = principal_components(anisotropic_codes(n=100)[0])
    with pytest.raises(ValueError, match="component must lie in"):
        pcs.traverse(4)
    with pytest.raises(ValueError, match="k must lie in"):
        pcs.project(np.zeros((3, 2, 2)), k=5)
    with pytest.raises(ValueError, match="4-value codes"):
        pcs.project(np.zeros((3, 5)))
    with pytest.raises(ValueError, match="shape \\(n, k\\)"):
        pcs.latents(np.zeros(3))
