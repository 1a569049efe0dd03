"""The plain autoencoder: API, training, serialisation and bad input, on the session's backend."""

import warnings

import keras
import numpy as np
import pytest

from keras_latent.datasets.lines import draw
from keras_latent.models import ACAI, VAE, Autoencoder
from keras_latent.models.base import interpolate_codes
from tests.helpers import TINY, gradients

pytestmark = pytest.mark.backend


def tiny_ae(**kwargs):
    return Autoencoder(**TINY, seed=1, **kwargs)


def test_encode_decode_reconstruct_shapes(random_images):
    model = tiny_ae()
    x = random_images(5)
    z = model.encode(x)
    assert z.shape == (5, 8, 8, 4) and model.latent_size == 256
    assert model.decode(z).shape == x.shape
    assert model.decode(z.reshape(5, -1)).shape == x.shape  # flattened codes accepted
    np.testing.assert_allclose(model.reconstruct(x), model.decode(z), atol=1e-5)
    outputs = model(x)
    assert set(outputs) == {"latent", "reconstruction"}


@pytest.mark.parametrize("method", ["linear", "slerp"])
def test_interpolation_includes_both_endpoints(random_images, method):
    model = tiny_ae()
    x_a, x_b = random_images(3, seed=1), random_images(3, seed=2)
    frames = model.interpolate(x_a, x_b, steps=7, method=method)
    assert frames.shape == (3, 7, 32, 32, 1)
    np.testing.assert_allclose(frames[:, 0], model.reconstruct(x_a), atol=1e-4)
    np.testing.assert_allclose(frames[:, -1], model.reconstruct(x_b), atol=1e-4)


def test_linear_and_slerp_codes():
    z_a, z_b = np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]])
    t = np.linspace(0, 1, 5)
    linear = interpolate_codes(z_a, z_b, t, "linear")
    np.testing.assert_allclose(linear[0, 2], [0.5, 0.5])
    slerp = interpolate_codes(z_a, z_b, t, "slerp")
    np.testing.assert_allclose(np.linalg.norm(slerp[0], axis=-1), 1.0, atol=1e-6)  # on the arc
    np.testing.assert_allclose(slerp[0, 2], [np.sqrt(0.5), np.sqrt(0.5)], atol=1e-6)
    same = interpolate_codes(z_a, z_a, t, "slerp")  # parallel codes: no division by zero
    np.testing.assert_allclose(same[0], np.repeat(z_a, 5, axis=0))
    with pytest.raises(ValueError, match="linear' or 'slerp"):
        interpolate_codes(z_a, z_b, t, "cubic")


def test_fit_lowers_reconstruction_error():
    # 32 steps at lr 3e-3 halve the error from every initialisation tried (8 seeds: ratios
    # 0.23-0.31); 16 steps at 1e-3 did not for 2 of 8, since the output bias must travel ~1.
    model = tiny_ae()
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    lines = draw(np.random.default_rng(0).uniform(0, 2 * np.pi, 64))
    history = model.fit(lines, batch_size=8, epochs=4, verbose=0)
    assert history.history["reconstruction"][-1] < 0.5 * history.history["reconstruction"][0]
    assert history.history["loss"] == pytest.approx(history.history["reconstruction"], rel=1e-4)


def test_fit_compiles_with_the_papers_optimizer_by_default(random_images):
    model = tiny_ae()
    model.fit(random_images(8), batch_size=8, epochs=1, verbose=0)
    assert isinstance(model.optimizer, keras.optimizers.Adam)
    assert float(model.optimizer.learning_rate) == pytest.approx(1e-4)


def test_keras_round_trip(tmp_path, random_images):
    model = tiny_ae(num_classes=4)
    path = tmp_path / "ae.keras"
    model.compile()
    model.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded) is Autoencoder and loaded.num_classes == 4
    x = random_images(3)
    np.testing.assert_allclose(loaded.reconstruct(x), model.reconstruct(x), atol=1e-6)


def test_sample_without_a_fitted_sampler_says_what_to_do():
    with pytest.raises(RuntimeError, match=r"no latent sampler: call model.fit_sampler\(x_train"):
        tiny_ae().sample(4)


@pytest.mark.parametrize("kind", ["gmm", "pca"])
def test_fit_sampler_then_sample_decodes_drawn_codes(random_images, kind):
    model = tiny_ae()
    x = random_images(40)
    sampler = model.fit_sampler(x, kind=kind, n_components=3, seed=0)
    assert model.latent_sampler is sampler and sampler.latent_shape == model.latent_shape
    images = model.sample(5)
    assert images.shape == (5, 32, 32, 1) and np.isfinite(images).all()
    # The images are the decoded codes of the sampler's next draws.
    fresh = type(sampler)(n_components=3, seed=0).fit(model.encode(x))
    fresh.sample(5)
    np.testing.assert_allclose(model.sample(2), model.decode(fresh.sample(2)), atol=1e-5)


def test_principal_components_of_the_codes(random_images):
    model = tiny_ae()
    x = random_images(40)
    with pytest.raises(ValueError, match="rank at most 39 < 256"):
        model.principal_components(x)  # d_z = 256 needs at least 257 images
    pcs = model.principal_components(x, allow_singular=True)
    assert pcs.latent_shape == model.latent_shape and pcs.rank <= 39
    np.testing.assert_allclose(pcs.mean, model.encode(x).reshape(40, -1).mean(0), atol=1e-6)


def test_the_fitted_sampler_is_kept_in_keras_files(tmp_path, random_images):
    model = tiny_ae()
    model.fit_sampler(random_images(30), n_components=2, seed=4)
    model.save(tmp_path / "ae.keras")
    loaded = keras.models.load_model(tmp_path / "ae.keras")
    assert loaded.latent_sampler.kind == "gmm" and loaded.latent_sampler.n_components == 2
    np.testing.assert_allclose(loaded.latent_sampler.means, model.latent_sampler.means)
    np.testing.assert_allclose(loaded.sample(3), model.sample(3), atol=1e-5)  # same seed state
    tiny_ae().save(tmp_path / "none.keras")  # no sampler: nothing saved, none restored
    assert keras.models.load_model(tmp_path / "none.keras").latent_sampler is None


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.zeros((4, 28, 28, 1)), r"shape \(n, 32, 32, 1\)"),
        (np.zeros((4, 32, 32, 3)), r"shape \(n, 32, 32, 1\)"),
        (np.zeros((32, 32, 1)), "single image"),
        (np.full((4, 32, 32, 1), 255.0), r"x / 127.5 - 1"),
        (np.full((4, 32, 32, 1), np.nan), "NaN"),
        (np.zeros((0, 32, 32, 1)), "empty"),
        (np.array([["a"]]), "numeric"),
    ],
)
def test_bad_images_get_a_clear_error(bad, message):
    model = tiny_ae()
    with pytest.raises((ValueError, TypeError), match=message):
        model.fit(bad, epochs=1, verbose=0)
    with pytest.raises((ValueError, TypeError), match=message):
        model.encode(bad)


def test_bad_labels_get_a_clear_error(random_images):
    x = random_images(4)
    with pytest.raises(ValueError, match="num_classes"):
        tiny_ae().fit(x, np.zeros(4, "int64"), verbose=0)
    with pytest.raises(ValueError, match=r"lie in \[0, 3\)"):
        tiny_ae(num_classes=3).fit(x, np.array([0, 1, 2, 3]), verbose=0)
    with pytest.raises(ValueError, match=r"shape \(4,\)"):
        tiny_ae(num_classes=3).fit(x, np.zeros(5, "int64"), verbose=0)


def test_fit_without_labels_leaves_the_probe_alone_without_a_warning(random_images):
    model = tiny_ae(num_classes=3)
    model.compile()
    before = model.probe.get_weights()
    with warnings.catch_warnings(record=True) as caught:  # keeps the active filters
        model.fit(random_images(8), batch_size=4, epochs=1, verbose=0)
    assert not [w for w in caught if "probe" in str(w.message)]
    for got, want in zip(model.probe.get_weights(), before):
        np.testing.assert_array_equal(got, want)


def test_probe_metrics_are_logged_only_when_fit_gets_labels(random_images):
    model = tiny_ae(num_classes=3)
    x, y = random_images(8), np.array([0, 1, 2, 0, 1, 2, 0, 1])
    unlabelled = model.fit(x, batch_size=4, epochs=2, verbose=0).history
    assert "probe_accuracy" not in unlabelled and "probe_loss" not in unlabelled
    assert set(unlabelled) == {"loss", "reconstruction"}
    labelled = model.fit(x, y, batch_size=4, epochs=2, verbose=0).history
    assert len(labelled["probe_accuracy"]) == 2 and labelled["probe_loss"][-1] > 0
    assert "probe_loss" not in model.evaluate(x, batch_size=4, verbose=0, return_dict=True)
    assert "probe_loss" in model.evaluate(x, y, batch_size=4, verbose=0, return_dict=True)


def test_every_models_sample_has_one_signature():
    import inspect

    from keras_latent import models

    classes = [c for c in vars(models).values() if isinstance(c, type)]
    classes = [c for c in classes if issubclass(c, Autoencoder)]
    assert len(classes) == 11
    for model_class in classes:
        parameters = inspect.signature(model_class.sample).parameters
        assert [(p.name, p.default) for p in list(parameters.values())[1:]] == [
            ("n", inspect.Parameter.empty),
            ("seed", None),
            ("batch_size", 256),
        ], model_class
    priors = {c.__name__ for c in classes if c.samples_from_prior}
    assert priors == {"VAE", "AAE", "WAE"}


def test_a_seeded_sample_repeats_and_leaves_the_samplers_stream(random_images):
    model = tiny_ae()
    x = random_images(40)
    model.fit_sampler(x, n_components=3, seed=0)
    twin = tiny_ae()
    twin.set_weights(model.get_weights())
    twin.fit_sampler(x, n_components=3, seed=0)
    seeded = model.sample(4, seed=7)
    np.testing.assert_array_equal(seeded, model.sample(4, seed=7))
    assert not np.allclose(seeded, model.sample(4, seed=8))
    np.testing.assert_allclose(model.sample(3), twin.sample(3), atol=1e-6)  # stream untouched
    assert not np.allclose(model.sample(3), model.sample(3))  # no seed: new draws


def test_bad_latents_and_arguments():
    model = tiny_ae()
    with pytest.raises(ValueError, match="latents must have shape"):
        model.decode(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="NaN"):
        model.decode(np.full((2, 8, 8, 4), np.nan))
    with pytest.raises(ValueError, match="steps"):
        model.interpolate(np.zeros((1, 32, 32, 1)), np.zeros((1, 32, 32, 1)), steps=1)
    with pytest.raises(ValueError, match="as many images"):
        model.interpolate(np.zeros((1, 32, 32, 1)), np.zeros((2, 32, 32, 1)))
    with pytest.raises(ValueError, match="num_classes"):
        tiny_ae(num_classes=1)


def test_a_batch_of_one_trains(random_images):
    """Documented behaviour: a batch of one is allowed (ACAI pairs it with itself)."""
    model = tiny_ae()
    history = model.fit(random_images(1), batch_size=1, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_train_on_batch_accepts_numpy_arrays():
    """Keras' torch train_on_batch passes numpy arrays to compute_loss unconverted."""
    model = tiny_ae()
    model.compile()
    loss = model.train_on_batch(draw(np.linspace(0, 3, 4)))
    assert np.all(np.isfinite(loss))


# The in-training probe of every model is base.Autoencoder.compute_loss's: the plain autoencoder,
# ACAI (a critic, random mixes) and the VAE in "sample" mode (the probe reads ``h``, not ``z``).
PROBED = {
    "autoencoder": lambda: Autoencoder(**TINY, num_classes=3, seed=1),
    "acai": lambda: ACAI(**TINY, num_classes=3, seed=1),
    "vae_sample": lambda: VAE(**TINY, num_classes=3, seed=1, latent_mode="sample"),
}


def step_losses(model, x):
    """``y -> loss``: ``loss()`` is ``compute_loss`` as ``fit``'s step calls it, with labels
    ``y`` (None: a step without labels); every call starts from the seed generator's state of
    now, so that all of them draw the same noise (ACAI's alphas, the VAE's samples)."""
    x = keras.ops.convert_to_tensor(x)
    start = keras.ops.convert_to_numpy(model.seed_generator.state.value).copy()

    def with_labels(y):
        def loss():
            model.seed_generator.state.assign(start)
            return model.compute_loss(x, y, model(x, training=True), training=True)

        return loss

    return with_labels


@pytest.mark.parametrize("name", PROBED)
def test_the_probe_loss_moves_only_the_probe(name, random_images, monkeypatch):
    """README: the probe is "one dense layer on the stop-gradient latent". The gradients of the
    whole loss ``fit`` minimises (``compute_loss`` with labels, the probe's cross-entropy
    included) on every other variable equal those without labels, the probe's are non-zero;
    and the probe's term alone has exactly zero gradient on every other variable."""
    model = PROBED[name]()
    x, y = random_images(6), np.array([0, 1, 2, 0, 1, 2])
    probe = model.probe.trainable_variables
    others = [v for v in model.trainable_variables if all(v is not p for p in probe)]
    assert len(probe) == 2 and len(others) > 2

    loss = step_losses(model, x)
    labelled = gradients(loss(y), others + probe)
    unlabelled = gradients(loss(None), others + probe)
    assert all(np.abs(g).max() > 0 for g in labelled)  # encoder, decoder (critic), probe
    for with_probe, without in zip(labelled[: len(others)], unlabelled[: len(others)]):
        np.testing.assert_array_equal(with_probe, without)
    assert all(np.abs(g).max() == 0 for g in unlabelled[len(others) :])

    # The probe's term alone: the model's own terms (loss_terms) count zero.
    terms = model.loss_terms
    monkeypatch.setattr(model, "loss_terms", lambda *a: (0.0, terms(*a)[1]))
    probe_only = gradients(loss(y), others + probe)
    assert all(np.abs(g).max() == 0 for g in probe_only[: len(others)])
    assert all(np.abs(g).max() > 0 for g in probe_only[len(others) :])
