"""Representation evaluation: Hungarian matching, whitening, clustering and the linear probe."""

import numpy as np
import pytest

from keras_latent.datasets.lines import draw
from keras_latent.metrics.representation import (
    Whitening,
    cluster_accuracy,
    clustering_accuracy,
    clustering_accuracy_from_latents,
    linear_probe_accuracy,
    linear_probe_accuracy_from_latents,
)
from keras_latent.models import Autoencoder
from tests.helpers import TINY


class Identity:
    """A stand-in model whose latents are its inputs."""

    def encode(self, x, batch_size=256):
        return np.asarray(x, dtype=np.float32)


def blobs(n, d=16, k=4, spread=0.3, seed=0, shape=None):
    """Gaussian blobs around k well-separated centres, stretched anisotropically."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(k, d)) * 3.0
    labels = rng.integers(0, k, n)
    z = centres[labels] + spread * rng.normal(size=(n, d))
    z = z @ np.diag(np.geomspace(0.1, 10.0, d))  # whitening must undo the stretch
    return z.reshape(n, *(shape or (d,))).astype(np.float32), labels


# --------------------------------------------------------------------------- Hungarian
def test_cluster_accuracy_is_exact_on_permuted_labels():
    labels = np.random.default_rng(0).integers(0, 10, 500)
    permutation = np.random.default_rng(1).permutation(10)
    assert cluster_accuracy(labels, permutation[labels]) == 1.0
    assert cluster_accuracy(labels, permutation[labels] + 100) == 1.0  # any ids


def test_cluster_accuracy_counts_the_best_matching():
    labels = np.array([0, 0, 0, 1, 1, 1, 2, 2])
    clusters = np.array([5, 5, 7, 7, 7, 7, 9, 5])  # best: 5->0, 7->1, 9->2: 2 + 3 + 1
    assert cluster_accuracy(labels, clusters) == pytest.approx(6 / 8)
    assert cluster_accuracy(labels, np.zeros(8, int)) == pytest.approx(3 / 8)  # one cluster


def test_cluster_accuracy_bad_input():
    with pytest.raises(ValueError, match="3 labels but 2 cluster"):
        cluster_accuracy([0, 1, 2], [0, 1])
    with pytest.raises(ValueError, match="integer class indices"):
        cluster_accuracy([0.5, 1.0], [0, 1])


# ----------------------------------------------------------------------------- whitening
def test_whitening_gives_identity_covariance_with_train_statistics():
    z, _ = blobs(400, d=6)
    whitening = Whitening(z)
    w = whitening.transform(z)
    np.testing.assert_allclose(w.mean(axis=0), 0, atol=1e-9)
    np.testing.assert_allclose(np.cov(w, rowvar=False, bias=True), np.eye(6), atol=1e-6)
    shifted = whitening.transform(z[:10] + 0.0)
    np.testing.assert_allclose(shifted, w[:10])  # test data use the train statistics


def test_whitening_drops_null_directions():
    z, _ = blobs(300, d=5)
    z = np.concatenate([z, z[:, :2] + z[:, 2:4], np.full((300, 1), 3.0)], axis=1)
    assert Whitening(z).rank == 5
    with pytest.raises(ValueError, match="all identical"):
        Whitening(np.ones((5, 3)))


# ---------------------------------------------------------------------------- clustering
def test_clustering_recovers_blobs_in_latent_space():
    z, y = blobs(1200, d=16, k=4, shape=(2, 2, 4))  # spatial latents are flattened
    details = clustering_accuracy(
        Identity(),
        (z[:1000], y[:1000]),
        (z[1000:], y[1000:]),
        4,
        n_init=20,
        return_details=True,
    )
    assert details["test_accuracy"] == 1.0 and details["train_accuracy"] == 1.0
    assert details["whitened_rank"] == 16 and details["n_init"] == 20


def test_clustering_uses_train_statistics_only():
    z, y = blobs(600, d=8, k=3)
    accuracy = clustering_accuracy_from_latents(
        z[:500], y[:500], z[500:] + 0.0, y[500:], n_clusters=3, n_init=10
    )
    assert accuracy == 1.0
    # a test set shifted far away lands in one cluster: chance-level, not re-fitted
    far = clustering_accuracy_from_latents(
        z[:500], y[:500], z[500:] + 1e3, y[500:], n_clusters=3, n_init=10
    )
    assert far < 0.6


def test_clustering_chance_level_on_noise():
    rng = np.random.default_rng(0)
    z, y = rng.normal(size=(1000, 8)), rng.integers(0, 10, 1000)
    accuracy = clustering_accuracy_from_latents(z[:800], y[:800], z[800:], y[800:], n_init=5)
    assert accuracy < 0.25  # 10 classes: chance is about 0.1


@pytest.mark.parametrize(
    "change, error, match",
    [
        (dict(y_train=np.zeros(99, int)), ValueError, "train labels hold 99 labels for 100"),
        (dict(y_test=np.zeros((50, 2), int)), ValueError, "test labels must have shape"),
        (dict(n_clusters=1), ValueError, "n_clusters must be >= 2"),
        (dict(n_clusters=101), ValueError, "larger than the number of train latents"),
        (dict(z_train="nan"), ValueError, "train latents contain NaN"),
        (dict(z_test=np.zeros((50, 3))), ValueError, "differ in size"),
        (dict(y_train=-np.ones(100, int)), ValueError, "must be >= 0"),
    ],
)
def test_clustering_bad_input(change, error, match):
    z, y = blobs(150, d=4, k=3)
    args = dict(z_train=z[:100], y_train=y[:100], z_test=z[100:], y_test=y[100:])
    if isinstance(change.get("z_train"), str):
        change = dict(z_train=np.where(np.arange(100)[:, None] == 7, np.nan, z[:100]))
    args.update(change)
    with pytest.raises(error, match=match):
        clustering_accuracy_from_latents(
            args["z_train"],
            args["y_train"],
            args["z_test"],
            args["y_test"],
            n_clusters=change.get("n_clusters", 3),
            n_init=2,
        )


def test_model_input_is_checked():
    z, y = blobs(20, d=4)
    with pytest.raises(TypeError, match=r"\(x, y\) pair"):
        clustering_accuracy(Identity(), z, (z, y), 2)
    with pytest.raises(TypeError, match="encode"):
        linear_probe_accuracy(object(), (z, y), (z, y))


# ---------------------------------------------------------------------------- linear probe
@pytest.mark.backend
def test_probe_on_separable_latents():
    # 240 steps: too few for Adam(1e-4) (the default, for MNIST-sized data), enough at 1e-2
    z, y = blobs(2000, d=16, k=4, spread=1.0)
    details = linear_probe_accuracy(
        Identity(),
        (z[:1500], y[:1500]),
        (z[1500:], y[1500:]),
        learning_rate=1e-2,
        epochs=10,
        return_details=True,
    )
    assert details["test_accuracy"] > 0.97 and details["train_accuracy"] > 0.97
    assert details["num_classes"] == 4 and details["epochs"] == 10


@pytest.mark.backend
def test_probe_is_reproducible_and_near_chance_on_noise():
    rng = np.random.default_rng(0)
    z, y = rng.normal(size=(600, 8)).astype("float32"), rng.integers(0, 3, 600)
    kwargs = dict(num_classes=3, epochs=2, seed=5)
    first = linear_probe_accuracy_from_latents(z[:400], y[:400], z[400:], y[400:], **kwargs)
    again = linear_probe_accuracy_from_latents(z[:400], y[:400], z[400:], y[400:], **kwargs)
    assert first == again
    assert first < 0.5  # 3 classes: chance is 1/3


@pytest.mark.backend
def test_probe_on_a_real_model_leaves_it_unchanged():
    angles = np.random.default_rng(0).uniform(0, 2 * np.pi, 400)
    x, y = draw(angles), (angles // (np.pi / 2)).astype(int)  # quadrant of each line
    model = Autoencoder(**TINY, seed=1)
    before = [w.copy() for w in model.get_weights()]
    accuracy = linear_probe_accuracy(model, (x[:300], y[:300]), (x[300:], y[300:]), epochs=3)
    assert 0.0 <= accuracy <= 1.0
    for old, new in zip(before, model.get_weights()):
        np.testing.assert_array_equal(old, new)


def test_probe_bad_input():
    z, y = blobs(60, d=4, k=3)
    with pytest.raises(ValueError, match="train labels hold 40 labels for 50"):
        linear_probe_accuracy_from_latents(z[:50], y[:40], z[50:], y[50:])
    with pytest.raises(ValueError, match="beyond num_classes=2"):
        linear_probe_accuracy_from_latents(z[:50], y[:50], z[50:], y[50:], num_classes=2)
    bad = z[50:].copy()
    bad[3, 0] = np.inf
    with pytest.raises(ValueError, match="test latents contain NaN or infinite values"):
        linear_probe_accuracy_from_latents(z[:50], y[:50], bad, y[50:])
    with pytest.raises(ValueError, match="epochs must be >= 1"):
        linear_probe_accuracy_from_latents(z[:50], y[:50], z[50:], y[50:], epochs=0)


@pytest.mark.backend
def test_official_probe_protocol_steps_schedule_and_raw_latents():
    """Budget in images, learning rate decayed to a tenth at the halfway step and to a
    hundredth at the end, raw latents, full batches spanning passes."""
    z, y = blobs(1200, d=8, k=3, spread=1.0)
    z = z * 3 + 5  # raw latents, not standardised: still separable by the probe
    details = linear_probe_accuracy_from_latents(
        z[:1000],
        y[:1000],
        z[1000:],
        y[1000:],
        protocol="official",
        images=12800,  # 200 steps of 64 over 1000 codes: batches span passes
        learning_rate=0.1,
        return_details=True,
    )
    assert details["protocol"] == "official" and details["standardize"] is False
    assert details["steps"] == details["optimizer_steps"] == 200
    assert details["images"] == 12800
    assert details["final_learning_rate"] == pytest.approx(0.1 * 0.1**2, rel=1e-4)
    assert details["test_accuracy"] > 0.9


def test_official_probe_stream_covers_each_pass_once():
    from keras_latent.metrics.representation import _stream_chunks, _stream_rows

    seen = _stream_rows(10, seed=0, start=0, stop=20)  # 20 positions over 10 codes: 2 passes
    assert sorted(seen[:10]) == list(range(10)) and sorted(seen[10:]) == list(range(10))
    assert not np.array_equal(seen[:10], seen[10:])  # each pass its own order
    np.testing.assert_array_equal(_stream_rows(10, 0, 8, 12), seen[8:12])  # spans two passes
    chunks = list(_stream_chunks(10, batch_size=4, steps=5, chunk_steps=2, seed=0))
    assert [len(rows) for rows in chunks] == [8, 8, 4]
    np.testing.assert_array_equal(np.concatenate(chunks), seen)


def test_probe_protocol_bad_input():
    z, y = blobs(60, d=4, k=3)
    with pytest.raises(ValueError, match="protocol must be one of"):
        linear_probe_accuracy_from_latents(z[:50], y[:50], z[50:], y[50:], protocol="paper")
    with pytest.raises(ValueError, match="cover one pass over the 50 train latents"):
        linear_probe_accuracy_from_latents(
            z[:50], y[:50], z[50:], y[50:], protocol="official", images=49
        )


def test_clustering_uses_the_first_train_latents_only():
    """The official cluster.py whitens and clusters the first 60,000 train latents; later
    ones (here: noise) change nothing."""
    z, y = blobs(400, d=6, k=3, spread=0.5)
    noise = np.random.default_rng(1).normal(0, 50, (200, 6)).astype("float32")
    kwargs = dict(n_init=5, seed=0, return_details=True)
    first = clustering_accuracy_from_latents(z[:300], y[:300], z[300:], y[300:], **kwargs)
    padded = clustering_accuracy_from_latents(
        np.concatenate([z[:300], noise]),
        np.concatenate([y[:300], np.zeros(200, int)]),
        z[300:],
        y[300:],
        fit_images=300,
        **kwargs,
    )
    assert padded["train_latents"] == first["train_latents"] == 300
    assert padded["test_accuracy"] == first["test_accuracy"]
    model = Identity()
    full = clustering_accuracy(model, (z[:300], y[:300]), (z[300:], y[300:]), **kwargs)
    cut = clustering_accuracy(
        model, (z[:350], y[:350]), (z[300:], y[300:]), fit_images=300, **kwargs
    )
    assert cut["train_latents"] == 300 and cut["test_accuracy"] == full["test_accuracy"]
    with pytest.raises(ValueError, match="fit_images must be a positive integer"):
        clustering_accuracy_from_latents(z[:300], y[:300], z[300:], y[300:], fit_images=0)
