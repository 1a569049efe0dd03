"""Batched K-means: the same answers as scikit-learn's Lloyd from the same starts, and bad input."""

import numpy as np
import pytest
from sklearn.cluster import KMeans

from keras_latent.metrics.kmeans import _lloyd, kmeans, predict


def blobs(n, d, k, spread=0.2, seed=0):
    """Points around k random centres; returns (points float32, true cluster ids)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(k, d)) * 3.0
    ids = np.arange(n) % k
    return (centres[ids] + spread * rng.normal(size=(n, d))).astype(np.float32), ids


def test_every_restart_matches_sklearn_lloyd_from_the_same_start():
    x, _ = blobs(600, 5, 4, spread=1.5)
    result = kmeans(x, 4, n_init=12, seed=3)
    rng = np.random.default_rng(3)  # kmeans draws its random starts this way, in order
    starts = [rng.choice(len(x), 4, replace=False) for _ in range(12)]
    for start, inertia in zip(starts, result.inertias):
        reference = KMeans(4, init=x[start], n_init=1, max_iter=1000, algorithm="lloyd").fit(x)
        assert inertia == pytest.approx(reference.inertia_, rel=1e-5)
    assert result.inertia == pytest.approx(result.inertias.min(), rel=1e-5)


def test_best_restart_is_consistent_and_finds_separated_blobs():
    x, ids = blobs(500, 8, 5)
    result = kmeans(x, 5, n_init=20, seed=0)
    np.testing.assert_array_equal(predict(x, result.centers), result.labels)
    for cluster in range(5):  # each found cluster is exactly one blob
        assert len(np.unique(ids[result.labels == cluster])) == 1
    expected = sum(np.sum((x[result.labels == j] - result.centers[j]) ** 2) for j in range(5))
    assert result.inertia == pytest.approx(expected, rel=1e-9)
    assert result.centers.shape == (5, 8) and result.labels.shape == (500,)


def test_kmeans_plus_plus_and_determinism():
    x, ids = blobs(300, 4, 3)
    a = kmeans(x, 3, n_init=5, init="k-means++", seed=7)
    b = kmeans(x, 3, n_init=5, init="k-means++", seed=7)
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_array_equal(a.inertias, b.inertias)
    assert len(np.unique(ids[a.labels == 0])) == 1


def test_more_restarts_than_one_block():
    x, _ = blobs(200, 3, 10, spread=2.0)
    result = kmeans(x, 10, n_init=250, max_iter=50, seed=0)  # blocks of 102 restarts
    assert result.inertias.shape == (250,) and np.all(np.isfinite(result.inertias))
    assert np.all(result.n_iters <= 50)


def test_empty_clusters_are_refilled():
    # 3 distinct points, 3 clusters: duplicated starts leave a cluster empty at first
    x = np.repeat(np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]], np.float32), 20, axis=0)
    result = kmeans(x, 3, n_init=10, seed=0)
    assert result.inertia == pytest.approx(0.0, abs=1e-6)
    assert sorted(np.bincount(result.labels)) == [20, 20, 20]


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(n_clusters=1), ValueError, "n_clusters must be >= 2"),
        (dict(n_clusters=11), ValueError, r"n_clusters \(11\) is larger than the number"),
        (dict(n_clusters=2.5), TypeError, "n_clusters must be an integer"),
        (dict(n_clusters=2, n_init=0), ValueError, "n_init must be a positive integer"),
        (dict(n_clusters=2, init="kmeans++"), ValueError, "init must be"),
        (dict(n_clusters=2, tol=-1), ValueError, "tol must be >= 0"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    x, _ = blobs(10, 2, 2)
    with pytest.raises(error, match=match):
        kmeans(x, **kwargs)


def test_bad_points():
    x = np.random.default_rng(0).normal(size=(10, 3))
    x[4, 1] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite values \\(1 of 10 rows\\)"):
        kmeans(x, 2)
    with pytest.raises(ValueError, match="shape \\(n, d\\)"):
        kmeans(np.zeros(10), 2)
    with pytest.raises(TypeError, match="numeric"):
        kmeans(np.array([["a", "b"], ["c", "d"]]), 2)


def test_same_result_whatever_the_number_of_threads():
    x, _ = blobs(300, 4, 6, spread=2.0)
    one = kmeans(x, 6, n_init=30, seed=2, n_jobs=1)
    three = kmeans(x, 6, n_init=30, seed=2, n_jobs=3)
    np.testing.assert_array_equal(one.inertias, three.inertias)
    np.testing.assert_array_equal(one.labels, three.labels)


def test_many_clusters_match_sklearn_too():
    # more than 16 clusters: the exact (float64 key) path of the assignment
    x, _ = blobs(400, 3, 20, spread=1.0)
    result = kmeans(x, 20, n_init=3, seed=1)
    rng = np.random.default_rng(1)
    for inertia in result.inertias:
        start = rng.choice(len(x), 20, replace=False)
        reference = KMeans(20, init=x[start], n_init=1, max_iter=1000, algorithm="lloyd").fit(x)
        assert inertia == pytest.approx(reference.inertia_, rel=1e-5)


@pytest.mark.parametrize("dense_fraction", [0.0, 0.15, 1.0])
def test_either_distance_path_gives_the_same_lloyd(dense_fraction):
    """Restarts recomputed by the block's GEMM (0.0), by gathering their stale points (1.0),
    or by the default mix reach the same centres as scikit-learn's Lloyd from the same start."""
    x, _ = blobs(800, 6, 5, spread=2.0, seed=1)
    x_sq = np.einsum("ij,ij->i", x, x)
    rng = np.random.default_rng(0)
    starts = np.stack([rng.choice(len(x), 5, replace=False) for _ in range(6)])
    tol_abs = 1e-4 * float(np.mean(np.var(x, axis=0)))
    result = _lloyd(x, x_sq, x[starts], 1000, tol_abs, dense_fraction=dense_fraction)
    for start, inertia, labels in zip(starts, result["inertia"], result["labels"]):
        reference = KMeans(5, init=x[start], n_init=1, max_iter=1000, algorithm="lloyd").fit(x)
        assert inertia == pytest.approx(reference.inertia_, rel=1e-5)
        np.testing.assert_array_equal(labels, reference.labels_)
