"""Latent samplers: what they fit, what they draw, their state, and bad input."""

import json

import numpy as np
import pytest

from keras_latent.sampling import (
    ARRAYS_FILE,
    CONFIG_FILE,
    GaussianMixtureSampler,
    LatentSampler,
    PrincipalComponentSampler,
    describe,
    load_sampler,
    make_sampler,
    save_sampler,
)


def two_clusters(n=600, seed=0):
    """Codes (n, 2, 3): two well separated Gaussian clusters, weights 1/3 and 2/3."""
    rng = np.random.default_rng(seed)
    labels = rng.random(n) < 1 / 3
    centres = np.where(labels[:, None], -4.0, 4.0)
    return (centres + 0.5 * rng.normal(size=(n, 6))).reshape(n, 2, 3).astype("float32")


def test_gaussian_mixture_recovers_the_clusters_and_samples_from_them():
    codes = two_clusters()
    sampler = GaussianMixtureSampler(n_components=2, seed=0).fit(codes)
    assert sorted(np.round(sampler.weights, 1)) == [0.3, 0.7]
    drawn = sampler.sample(3000)
    assert drawn.shape == (3000, 2, 3) and drawn.dtype == np.float32
    flat = drawn.reshape(3000, -1)
    low = flat.mean(axis=1) < 0
    assert low.mean() == pytest.approx(1 / 3, abs=0.04)
    data = codes.reshape(len(codes), -1)
    data_low = data[data.mean(axis=1) < 0]
    np.testing.assert_allclose(flat[low].mean(0), data_low.mean(0), atol=0.06)
    np.testing.assert_allclose(flat[low].std(0), data_low.std(0), atol=0.04)
    # Component labels are shuffled, not grouped; successive calls differ; seeds repeat.
    assert 0.1 < low[:100].mean() < 0.6
    assert not np.allclose(sampler.sample(5), sampler.sample(5))
    first = GaussianMixtureSampler(n_components=2, seed=0).fit(codes).sample(5)
    np.testing.assert_array_equal(first, GaussianMixtureSampler(2, seed=0).fit(codes).sample(5))


def test_mixture_draws_are_mean_plus_cholesky_times_noise_without_a_d_by_d_copy_per_code():
    """Each code is ``mean_c + L_c eps`` of its component c; drawing n codes of size d needs
    no (n, d, d) array (10,000 codes of 256 took 5 GB that way)."""
    import tracemalloc

    rng = np.random.default_rng(0)
    codes = rng.normal(size=(400, 128)) + np.repeat(rng.normal(size=(4, 128)) * 5, 100, axis=0)
    sampler = GaussianMixtureSampler(4, seed=0).fit(codes)
    tracemalloc.start()
    drawn = sampler.sample(1000, seed=3)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 16 * 1000 * 128 * 8  # a (1000, 128, 128) float64 copy would be 131 MB
    draw = np.random.default_rng(3)
    counts = draw.multinomial(1000, sampler.weights / sampler.weights.sum())
    component = np.repeat(np.arange(4), counts)
    draw.shuffle(component)
    noise = draw.standard_normal((1000, 128))
    expected = sampler.means[component] + np.einsum(
        "nij,nj->ni", np.linalg.cholesky(sampler.covariances)[component], noise
    )
    np.testing.assert_allclose(drawn, expected.astype("float32"), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_every_covariance_type_samples(covariance_type):
    sampler = GaussianMixtureSampler(2, covariance_type=covariance_type, seed=1)
    drawn = sampler.fit(two_clusters(n=200)).sample(400).reshape(400, -1)
    assert np.isfinite(drawn).all()
    assert (drawn.mean(axis=1) < 0).mean() == pytest.approx(1 / 3, abs=0.1)


def test_principal_component_sampler_matches_the_covariance_of_its_components():
    rng = np.random.default_rng(2)
    codes = (rng.normal(size=(5000, 3)) * [3.0, 1.0, 0.1] + [1.0, 2.0, 3.0]).astype("float32")
    full = PrincipalComponentSampler(seed=0).fit(codes).sample(20000)
    np.testing.assert_allclose(np.cov(full, rowvar=False), np.cov(codes, rowvar=False), atol=0.2)
    np.testing.assert_allclose(full.mean(0), codes.mean(0), atol=0.1)  # 4.5 standard errors
    top = PrincipalComponentSampler(n_components=1, scale=0.5, seed=0).fit(codes).sample(20000)
    np.testing.assert_allclose(top.std(0), [1.5, 0.0, 0.0], atol=0.05)  # along v_1 only


def test_state_round_trip_restores_a_sampler_that_draws_the_same():
    codes = two_clusters(n=200)
    for sampler in (GaussianMixtureSampler(2, seed=3), PrincipalComponentSampler(2, seed=3)):
        sampler.fit(codes)
        config, arrays = sampler.state()
        restored = LatentSampler.from_state(config, arrays)
        assert type(restored) is type(sampler) and restored.latent_shape == (2, 3)
        fresh = type(sampler)(2, seed=3).fit(codes)
        np.testing.assert_allclose(restored.sample(7), fresh.sample(7))


def test_bad_input_gets_clear_errors():
    codes = two_clusters(n=20)
    with pytest.raises(ValueError, match="10 components needs at least 10 codes to fit; got 4"):
        GaussianMixtureSampler(10).fit(codes[:4])
    with pytest.raises(ValueError, match="NaN or infinite"):
        GaussianMixtureSampler(2).fit(np.full((20, 3), np.nan))
    with pytest.raises(ValueError, match="NaN or infinite"):
        PrincipalComponentSampler().fit(np.array([[0.0, 1.0], [np.inf, 0.0], [1.0, 1.0]]))
    with pytest.raises(RuntimeError, match="not fitted"):
        GaussianMixtureSampler().sample(3)
    with pytest.raises(ValueError, match="positive integer"):
        PrincipalComponentSampler().fit(codes).sample(0)
    with pytest.raises(ValueError, match="exceeds the 6 dimensions"):
        PrincipalComponentSampler(n_components=7).fit(codes)
    with pytest.raises(ValueError, match="kind must be one of"):
        make_sampler("flow")
    with pytest.raises(ValueError, match="covariance_type"):
        GaussianMixtureSampler(covariance_type="banded")
    with pytest.raises(ValueError, match="n_components must be >= 1"):
        GaussianMixtureSampler(0)
    with pytest.raises(ValueError, match="scale"):
        PrincipalComponentSampler(scale=0.0)
    with pytest.raises(TypeError, match="seed"):
        PrincipalComponentSampler(seed=1.5)
    with pytest.raises(ValueError, match="unknown sampler kind"):
        LatentSampler.from_state({"kind": "flow", "latent_shape": [2]}, {})


def test_a_seed_repeats_its_draw_and_leaves_the_samplers_own_stream():
    codes = two_clusters(n=200)
    for kind in ("gmm", "pca"):
        sampler = make_sampler(kind, n_components=2, seed=5).fit(codes)
        twin = make_sampler(kind, n_components=2, seed=5).fit(codes)
        seeded = sampler.sample(6, seed=11)
        np.testing.assert_array_equal(seeded, sampler.sample(6, seed=11))
        assert not np.allclose(seeded, sampler.sample(6, seed=12))
        np.testing.assert_array_equal(sampler.sample(4), twin.sample(4))  # stream untouched
    with pytest.raises(TypeError, match="seed must be an int or None"):
        sampler.sample(2, seed=1.5)


def test_save_and_load_sampler_round_trip(tmp_path):
    sampler = GaussianMixtureSampler(2, seed=3).fit(two_clusters(n=200))
    config_path, arrays_path = save_sampler(sampler, tmp_path)
    assert (config_path.name, arrays_path.name) == (CONFIG_FILE, ARRAYS_FILE)
    restored = load_sampler(tmp_path, latent_shape=(2, 3))
    assert restored.fitted_codes == 200 and restored.latent_shape == (2, 3)
    np.testing.assert_array_equal(restored.sample(5, seed=0), sampler.sample(5, seed=0))
    assert load_sampler(tmp_path / "empty") is None  # no sampler files: no sampler
    assert describe(restored) == "Gaussian mixture (2 components, seed 3)"
    assert describe(PrincipalComponentSampler(scale=0.5)) == (
        "principal-component Gaussian (all components, scale 0.5)"
    )


def test_malformed_sampler_files_are_refused_naming_the_file(tmp_path):
    sampler = GaussianMixtureSampler(2, seed=3).fit(two_clusters(n=200))
    save_sampler(sampler, tmp_path)
    config = json.loads((tmp_path / CONFIG_FILE).read_text())
    arrays = dict(np.load(tmp_path / ARRAYS_FILE))
    with pytest.raises(ValueError, match=r"latent_sampler.json: the latent sampler draws codes of "
                       r"shape \(2, 3\) but the model's latent has shape \(6,\)"):  # fmt: skip
        load_sampler(tmp_path, latent_shape=(6,))

    def refused(message, config=config, arrays=arrays, error=ValueError):
        (tmp_path / CONFIG_FILE).write_text(json.dumps(config))
        np.savez(tmp_path / ARRAYS_FILE, **arrays)
        with pytest.raises(error, match=message):
            load_sampler(tmp_path)

    refused("lack covariances", arrays={k: v for k, v in arrays.items() if k != "covariances"})
    refused(r"'means' has shape \(2, 5\), expected \(2, 6\)",
            arrays={**arrays, "means": arrays["means"][:, :5]})  # fmt: skip
    refused("not positive definite", arrays={**arrays, "covariances": -arrays["covariances"]})
    refused("not finite", arrays={**arrays, "weights": np.array([np.nan, 1.0])})
    refused("unknown sampler kind 'flow'", config={**config, "kind": "flow"})
    refused("latent_shape must be a list", config={**config, "latent_shape": "2x3"})
    refused("bad 'gmm' sampler config", config={**config, "colour": "red"})
    np.savez(tmp_path / ARRAYS_FILE, **arrays)
    (tmp_path / CONFIG_FILE).write_text("{oops")
    with pytest.raises(ValueError, match=r"latent_sampler.json is not valid JSON"):
        load_sampler(tmp_path)
    (tmp_path / CONFIG_FILE).write_text(json.dumps(config))
    (tmp_path / ARRAYS_FILE).write_bytes(b"not an npz file")
    with pytest.raises(ValueError, match=r"latent_sampler.npz is not a readable .npz file"):
        load_sampler(tmp_path)
    (tmp_path / ARRAYS_FILE).unlink()
    with pytest.raises(FileNotFoundError, match=r"latent_sampler.npz does not exist"):
        load_sampler(tmp_path)
