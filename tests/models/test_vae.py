"""VAE: the KL and Bernoulli terms and their reductions, the mean code, sampling, training."""

import keras
import numpy as np
import pytest

from keras_latent.models import VAE
from keras_latent.models.vae import bernoulli_nll, gaussian_kl
from tests.helpers import TINY
from tests.models.common import fit_on_lines, lines, round_trip

pytestmark = pytest.mark.backend


def tiny_vae(**kwargs):
    return VAE(**TINY, seed=5, **kwargs)


def numpy(x):
    return keras.ops.convert_to_numpy(x)


def test_kl_is_zero_at_the_prior_and_positive_elsewhere():
    zeros = np.zeros((3, 64), "float32")
    np.testing.assert_allclose(numpy(gaussian_kl(zeros, zeros)), 0.0, atol=1e-7)
    rng = np.random.default_rng(0)
    mean = rng.normal(size=(100, 64)).astype("float32")
    log_variance = rng.normal(size=(100, 64)).astype("float32")
    kl = numpy(gaussian_kl(mean, log_variance))
    assert kl.shape == (100,) and np.all(kl >= 0)
    # KL(N(m, s^2) || N(0, 1)) = (s^2 + m^2 - 1 - log s^2) / 2, summed over dimensions
    one = numpy(gaussian_kl(np.array([[1.0, 0.0]], "float32"), np.array([[0.0, 1.0]], "float32")))
    assert one[0] == pytest.approx(0.5 + 0.5 * (np.e - 2.0), rel=1e-6)


def test_bernoulli_nll_is_the_cross_entropy_and_stable():
    logits = np.array([-3.0, -0.5, 0.0, 2.0], "float32")
    targets = np.array([0.0, 0.3, 1.0, 0.9], "float32")
    p = 1.0 / (1.0 + np.exp(-logits.astype("float64")))
    expected = -(targets * np.log(p) + (1 - targets) * np.log(1 - p))
    np.testing.assert_allclose(numpy(bernoulli_nll(targets, logits)), expected, rtol=1e-5)
    extreme = numpy(bernoulli_nll(np.array([1.0, 0.0], "float32"), np.array([-200.0, 200.0])))
    np.testing.assert_allclose(extreme, [200.0, 200.0], rtol=1e-6)  # finite, no overflow


def test_loss_sums_over_pixels_and_dimensions_and_averages_over_the_batch():
    model = tiny_vae()
    x = lines(6)
    outputs = model(keras.ops.convert_to_tensor(x), training=True)
    total, logs = model.loss_terms(keras.ops.convert_to_tensor(x), outputs, training=True)
    logits = numpy(outputs["logits"]).astype("float64")
    p = 1.0 / (1.0 + np.exp(-logits))
    t = (x + 1.0) / 2.0
    nll = -(t * np.log(p) + (1 - t) * np.log(1 - p))
    assert float(logs["reconstruction"]) == pytest.approx(nll.sum() / 6, rel=1e-4)
    mean, log_variance = numpy(outputs["mean"]), numpy(outputs["log_variance"])
    kl = 0.5 * (np.exp(log_variance) + mean**2 - 1 - log_variance).sum() / 6
    assert float(logs["kl"]) == pytest.approx(kl, rel=1e-4)
    assert float(total) == pytest.approx(float(logs["reconstruction"]) + kl, rel=1e-5)  # beta 1


def test_encode_returns_the_posterior_mean_and_inference_decodes_it():
    model = tiny_vae()
    x = lines(5)
    mean, _ = model.posterior(keras.ops.convert_to_tensor(x))
    z = model.encode(x)
    assert z.shape == (5, *model.latent_shape)
    np.testing.assert_allclose(z.reshape(5, -1), numpy(mean), atol=1e-5)
    inference = model(x, training=False)
    np.testing.assert_allclose(numpy(inference["latent"]), z, atol=1e-5)
    np.testing.assert_allclose(model.reconstruct(x), numpy(inference["reconstruction"]), atol=1e-5)
    np.testing.assert_allclose(
        model.reconstruct(x), np.tanh(numpy(inference["logits"]) / 2), atol=1e-5
    )
    sampled = numpy(model(x, training=True)["reconstruction"])  # a posterior sample is decoded
    assert not np.allclose(sampled, model.reconstruct(x), atol=1e-4)


def test_decoded_images_lie_in_minus_one_one():
    model = tiny_vae()
    images = model.decode(30.0 * np.random.default_rng(0).normal(size=(4, model.latent_size)))
    assert images.min() >= -1.0 and images.max() <= 1.0


def test_sample_draws_from_the_prior():
    model = tiny_vae()
    images = model.sample(6, seed=3)
    assert images.shape == (6, 32, 32, 1)
    np.testing.assert_allclose(images, model.sample(6, seed=3))
    z = np.random.default_rng(3).standard_normal((6, model.latent_size))
    np.testing.assert_allclose(images, model.decode(z), atol=1e-5)
    with pytest.raises(ValueError, match="n must be"):
        model.sample(0)


def test_fit_on_lines_lowers_the_negative_elbo():
    logs = fit_on_lines(tiny_vae())
    assert set(logs) >= {"loss", "reconstruction", "kl"}
    assert logs["loss"][-1] < 0.8 * logs["loss"][0]
    assert min(logs["kl"]) >= 0


def test_keras_round_trip(tmp_path):
    model = tiny_vae(beta=0.5)
    x = lines(8)

    def same_samples(loaded):
        np.testing.assert_allclose(loaded.sample(3, seed=1), model.sample(3, seed=1), atol=1e-5)

    assert round_trip(model, tmp_path / "vae.keras", x, check=same_samples).beta == 0.5


@pytest.mark.parametrize("beta", [-1.0, float("nan")])
def test_negative_beta_is_refused(beta):
    with pytest.raises(ValueError, match="beta"):
        tiny_vae(beta=beta)


def test_sample_mode_encodes_posterior_samples_as_the_official_code():
    model = tiny_vae(latent_mode="sample")
    x = lines(5)
    mean, log_variance = (numpy(v) for v in model.posterior(keras.ops.convert_to_tensor(x)))
    z = model.encode(x, seed=4)
    eps = np.random.default_rng(4).standard_normal(mean.shape)
    expected = mean + np.exp(0.5 * log_variance) * eps
    np.testing.assert_allclose(z.reshape(5, -1), expected, atol=1e-5)
    np.testing.assert_array_equal(z, model.encode(x, seed=4))
    assert not np.allclose(model.encode(x), model.encode(x))  # fresh draws without a seed
    assert z.shape == (5, *model.latent_shape)
    # call(training=False) still decodes the mean; reconstruct decodes what encode gives
    inference = numpy(model(keras.ops.convert_to_tensor(x), training=False)["reconstruction"])
    np.testing.assert_allclose(inference, model.decode(mean), atol=1e-5)
    assert not np.allclose(model.reconstruct(x), inference, atol=1e-4)


def test_sampled_interpolations_and_lines_scores_repeat_with_a_seed():
    """Issue 27 (3, 7): a VAE interpolated on posterior samples gives the same frames, and so
    the same lines scores, for the same seed (``lines.evaluate`` seeds by default); the two
    ends get independent draws; ``seed=None`` draws afresh."""
    from keras_latent.metrics import lines as lines_metric

    model = tiny_vae(latent_mode="sample")
    x_a, x_b = lines(3), lines(6)[3:]
    frames = model.interpolate(x_a, x_b, steps=4, seed=7)
    np.testing.assert_array_equal(frames, model.interpolate(x_a, x_b, steps=4, seed=7))
    assert not np.allclose(frames, model.interpolate(x_a, x_b, steps=4, seed=8))
    assert not np.allclose(frames, model.interpolate(x_a, x_b, steps=4))
    same = model.interpolate(x_a, x_a, steps=2, seed=7)  # one image at both ends
    assert not np.allclose(same[:, 0], same[:, 1])  # two draws, not one
    first = lines_metric.evaluate(model, n_pairs=4, steps=4, batch_size=2)
    assert lines_metric.evaluate(model, n_pairs=4, steps=4, batch_size=2) == first


@pytest.mark.parametrize("mode", ["mean", "sample"])
def test_in_training_probe_reads_the_official_features(mode):
    """Official: the probe reads the encoder's output h before the heads; "mean": mu."""
    model = tiny_vae(latent_mode=mode, num_classes=3)
    x = keras.ops.convert_to_tensor(lines(4))
    outputs = model(x, training=False)
    h = numpy(model.encoder(x, training=False)).reshape(4, -1)
    expected = h if mode == "sample" else numpy(outputs["mean"])
    np.testing.assert_allclose(numpy(outputs["probe_features"]), expected, atol=1e-5)
    model.compile()
    history = model.fit(lines(16), np.arange(16) % 3, batch_size=8, epochs=1, verbose=0)
    assert np.isfinite(history.history["probe_loss"]).all()


def test_latent_mode_is_serialised_and_checked(tmp_path):
    model = tiny_vae(latent_mode="sample")
    assert VAE.from_config(model.get_config()).latent_mode == "sample"
    model.save(tmp_path / "vae.keras")
    assert keras.models.load_model(tmp_path / "vae.keras").latent_mode == "sample"
    with pytest.raises(ValueError, match="latent_mode must be one of"):
        tiny_vae(latent_mode="posterior")
