"""ACAI: loss isolation, training, serialisation, on the backend of the session."""

import keras
import numpy as np
import pytest

from keras_latent.datasets.lines import LinesStream
from keras_latent.models import ACAI
from tests.helpers import TINY, gradients, installed_backends, run_in_backend

pytestmark = pytest.mark.backend


def tiny_acai(**kwargs):
    return ACAI(**TINY, seed=3, **kwargs)


def split_losses(model, x):
    """The autoencoder's and the critic's objectives, as separate closures."""
    x = keras.ops.convert_to_tensor(x)

    def terms():
        _, logs = model.loss_terms(x, model(x, training=True), training=True)
        return logs

    def autoencoder_loss():
        logs = terms()
        return logs["reconstruction"] + model.adversarial_weight * logs["adversarial"]

    def critic_loss():
        return terms()["critic"]

    def adversarial_only():
        return terms()["adversarial"]

    return autoencoder_loss, critic_loss, adversarial_only


def norms(grads):
    return np.array([np.abs(g).max() for g in grads])


def test_constants_are_the_papers():
    model = tiny_acai()
    assert model.adversarial_weight == 0.5
    assert model.critic_regularization == 0.2
    model.compile()
    assert float(model.optimizer.learning_rate) == pytest.approx(1e-4)
    assert model.optimizer.epsilon == pytest.approx(1e-8)


def test_gradients_are_isolated(random_images):
    """The critic/autoencoder isolation, on ``loss_terms`` (the model's own terms, no probe):
    the probe's is tested on the whole ``compute_loss`` in test_base.py
    (``test_the_probe_loss_moves_only_the_probe``, ACAI included)."""
    model = tiny_acai()
    x = random_images(8)
    ae_vars = model.encoder.trainable_variables + model.decoder.trainable_variables
    critic_vars = model.critic.trainable_variables
    autoencoder_loss, critic_loss, adversarial_only = split_losses(model, x)

    # The autoencoder's terms never move the critic; they do move encoder and decoder.
    assert np.all(norms(gradients(autoencoder_loss, critic_vars)) == 0)
    assert np.all(norms(gradients(autoencoder_loss, ae_vars)) > 0)
    # The critic's terms never move the autoencoder; they move every critic weight.
    assert np.all(norms(gradients(critic_loss, ae_vars)) == 0)
    assert np.all(norms(gradients(critic_loss, critic_vars)) > 0)
    # The adversarial term reaches the decoder through the (frozen) critic's activations.
    decoder_grads = gradients(adversarial_only, model.decoder.trainable_variables)
    assert np.all(norms(decoder_grads) > 0)


def test_mixing_coefficients_are_uniform_on_zero_to_half():
    alpha = keras.ops.convert_to_numpy(tiny_acai().mixing_coefficients(20_000)).ravel()
    assert alpha.min() >= 0 and alpha.max() <= 0.5
    assert alpha.mean() == pytest.approx(0.25, abs=0.01)
    assert np.histogram(alpha, bins=5, range=(0, 0.5))[0].min() > 3600  # ~4000 per bin


def test_critic_targets_alpha_on_reversed_batch_pairs(random_images, monkeypatch):
    """With a critic that outputs 0, its loss is mean(alpha^2) + 0: alpha targets the mixes."""
    model = tiny_acai()
    x = random_images(6)
    seen = {}
    original = model.mixing_coefficients

    def record(n):
        seen["alpha"] = original(n)
        return seen["alpha"]

    monkeypatch.setattr(model, "mixing_coefficients", record)
    x = keras.ops.convert_to_tensor(x)
    for v in model.critic.trainable_variables:
        v.assign(np.zeros(v.shape))
    _, logs = model.loss_terms(x, model(x, training=True), training=True)
    alpha = keras.ops.convert_to_numpy(seen["alpha"]).ravel()
    assert float(logs["critic"]) == pytest.approx(np.mean(alpha**2), rel=1e-5)
    assert float(logs["adversarial"]) == 0.0


def test_fit_on_lines_lowers_the_losses():
    model = tiny_acai()
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    history = model.fit(LinesStream(batch_size=32, steps_per_epoch=15, seed=0), epochs=3, verbose=0)
    logs = history.history
    assert set(logs) >= {"loss", "reconstruction", "adversarial", "critic"}
    assert all(np.isfinite(v).all() for v in logs.values())
    assert logs["reconstruction"][-1] < 0.7 * logs["reconstruction"][0]
    assert logs["critic"][-1] < logs["critic"][0]


def test_fit_with_labels_trains_the_linear_probe(random_images):
    model = tiny_acai(num_classes=2)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    x = np.concatenate([np.full((32, 32, 32, 1), -0.9), np.full((32, 32, 32, 1), 0.9)])
    x = (x + 0.05 * random_images(64)).astype("float32")
    y = np.repeat([0, 1], 32)
    encoder_before = [v.numpy().copy() for v in model.encoder.weights]
    history = model.fit(x, y, batch_size=16, epochs=6, verbose=0, shuffle=True)
    assert history.history["probe_accuracy"][-1] > 0.9
    assert "probe_loss" in history.history
    # That the probe's loss never reaches the encoder is test_base.py's
    # test_the_probe_loss_moves_only_the_probe; here just check the encoder trained too.
    assert any(not np.allclose(a, b.numpy()) for a, b in zip(encoder_before, model.encoder.weights))


def test_keras_round_trip_reproduces_outputs(tmp_path, random_images):
    model = tiny_acai(num_classes=3)
    model.compile()
    model.fit(random_images(16), np.arange(16) % 3, batch_size=8, epochs=1, verbose=0)
    path = tmp_path / "acai.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded, ACAI)
    assert loaded.get_config() == model.get_config()
    x = random_images(4, seed=9)
    np.testing.assert_allclose(loaded.reconstruct(x), model.reconstruct(x), atol=1e-6)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(loaded.critic(x)),
        keras.ops.convert_to_numpy(model.critic(x)),
        atol=1e-6,
    )
    assert loaded.compiled
    loaded.fit(random_images(8), batch_size=8, epochs=1, verbose=0)  # trains on at once


def test_weights_are_portable_across_backends(tmp_path, random_images):
    model = tiny_acai()
    x = random_images(4, seed=5)
    weights = tmp_path / "acai.weights.h5"
    model.save_weights(weights)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "expected.npy", model.reconstruct(x))
    code = f"""
import numpy as np
from keras_latent.models import ACAI
model = ACAI(image_shape=(32, 32, 1), depth=4, latent=4, latent_width=8)
model.load_weights({str(weights)!r})
x = np.load({str(tmp_path / "x.npy")!r})
np.testing.assert_allclose(model.reconstruct(x), np.load({str(tmp_path / "expected.npy")!r}),
                           atol=1e-5)
print("ok")
"""
    others = [b for b in installed_backends() if b != keras.backend.backend()]
    if not others:
        pytest.skip("only one Keras backend is installed")
    for backend in others:
        assert "ok" in run_in_backend(backend, code)


@pytest.mark.parametrize("kwargs", [dict(adversarial_weight=-1.0), dict(critic_regularization=1.5)])
def test_bad_hyperparameters_are_refused(kwargs):
    with pytest.raises(ValueError):
        tiny_acai(**kwargs)
