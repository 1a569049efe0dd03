"""AAE: discriminator isolation both ways, the official losses, sampling, training."""

import keras
import numpy as np
import pytest

from keras_latent.models import AAE
from tests.helpers import TINY, gradients
from tests.models.common import fit_on_lines, lines, round_trip

pytestmark = pytest.mark.backend


def tiny_aae(**kwargs):
    return AAE(**TINY, seed=6, **kwargs)


def norms(grads):
    return np.array([np.abs(g).max() for g in grads])


def split_losses(model, x):
    x = keras.ops.convert_to_tensor(x)

    def terms():
        _, logs = model.loss_terms(x, model(x, training=True), training=True)
        return logs

    def autoencoder_loss():
        logs = terms()
        return logs["reconstruction"] + model.adversarial_weight * logs["adversarial"]

    return autoencoder_loss, lambda: terms()["discriminator"], lambda: terms()["adversarial"]


def test_discriminator_is_the_official_mlp():
    model = tiny_aae()
    assert model.adversarial_weight == 1.0 and model.discriminator_sizes == (100, 100)
    layers = model.discriminator.layers
    dense = [layer for layer in layers if isinstance(layer, keras.layers.Dense)]
    assert [layer.units for layer in dense] == [100, 100, 1]
    assert dense[0].kernel.shape == (model.latent_size, 100)
    leaky = [layer for layer in layers if isinstance(layer, keras.layers.LeakyReLU)]
    assert [layer.negative_slope for layer in leaky] == [0.2, 0.2]
    logits = model.discriminator(np.zeros((5, model.latent_size), "float32"))
    assert tuple(logits.shape) == (5,)


def test_gradients_are_isolated():
    model = tiny_aae()
    x = lines(8)
    ae_vars = model.encoder.trainable_variables + model.decoder.trainable_variables
    disc_vars = model.discriminator.trainable_variables
    autoencoder_loss, discriminator_loss, adversarial_only = split_losses(model, x)

    # The autoencoder's terms never move the discriminator; they move encoder and decoder.
    assert np.all(norms(gradients(autoencoder_loss, disc_vars)) == 0)
    assert np.all(norms(gradients(autoencoder_loss, ae_vars)) > 0)
    # The discriminator's terms never move the autoencoder; they move every discriminator weight.
    assert np.all(norms(gradients(discriminator_loss, ae_vars)) == 0)
    assert np.all(norms(gradients(discriminator_loss, disc_vars)) > 0)
    # The adversarial term reaches the encoder through the frozen discriminator, not the decoder.
    assert np.all(norms(gradients(adversarial_only, model.encoder.trainable_variables)) > 0)
    assert np.all(norms(gradients(adversarial_only, model.decoder.trainable_variables)) == 0)


def test_losses_are_the_sigmoid_cross_entropies():
    """A discriminator with zero weights outputs logit 0 everywhere: every cross-entropy is
    log 2, and it is right on the codes (logit <= 0) and wrong on the prior draws."""
    model = tiny_aae()
    for v in model.discriminator.trainable_variables:
        v.assign(np.zeros(v.shape))
    x = keras.ops.convert_to_tensor(lines(4))
    total, logs = model.loss_terms(x, model(x, training=True), training=True)
    assert float(logs["adversarial"]) == pytest.approx(np.log(2), rel=1e-6)
    assert float(logs["discriminator"]) == pytest.approx(2 * np.log(2), rel=1e-6)
    assert float(logs["discriminator_accuracy"]) == pytest.approx(0.5)
    assert float(total) == pytest.approx(float(logs["reconstruction"]) + 3 * np.log(2), rel=1e-5)


def test_sample_decodes_prior_draws():
    model = tiny_aae()
    z = np.random.default_rng(2).standard_normal((4, model.latent_size))
    np.testing.assert_allclose(model.sample(4, seed=2), model.decode(z), atol=1e-5)


def test_fit_on_lines_trains_both_players():
    model = tiny_aae()
    before = [v.numpy().copy() for v in model.discriminator.trainable_variables]
    # 2e-3: at 3e-3 the two-player game diverged within 32 steps on JAX.
    logs = fit_on_lines(model, learning_rate=2e-3)
    assert set(logs) >= {"reconstruction", "adversarial", "discriminator", "discriminator_accuracy"}
    assert logs["reconstruction"][-1] < 0.5 * logs["reconstruction"][0]
    after = model.discriminator.trainable_variables
    assert all(not np.allclose(a, b.numpy()) for a, b in zip(before, after))


def test_keras_round_trip(tmp_path):
    model = tiny_aae(discriminator_sizes=(32,))
    x = lines(8)
    codes = np.random.default_rng(0).normal(size=(4, model.latent_size)).astype("float32")

    def same_discriminator(loaded):
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(loaded.discriminator(codes)),
            keras.ops.convert_to_numpy(model.discriminator(codes)),
            atol=1e-5,
        )

    loaded = round_trip(model, tmp_path / "aae.keras", x, check=same_discriminator)
    assert loaded.discriminator_sizes == (32,)


@pytest.mark.parametrize(
    "kwargs, error",
    [
        (dict(adversarial_weight=-1.0), ValueError),
        (dict(discriminator_sizes=()), ValueError),
        (dict(discriminator_sizes=(100, 0)), ValueError),
        (dict(discriminator_sizes="100"), TypeError),
        (dict(discriminator_sizes=(100.5,)), TypeError),
    ],
)
def test_bad_hyperparameters_are_refused(kwargs, error):
    with pytest.raises(error, match=next(iter(kwargs))):
        tiny_aae(**kwargs)
