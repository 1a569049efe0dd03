"""Keras-native entry points: ``Model.from_preset`` and ``export`` (TF SavedModel: whole model,
encoder, decoder), reloaded with ``tf.saved_model.load``."""

from importlib.util import find_spec

import keras
import numpy as np
import pytest

import keras_latent as kl
from keras_latent.datasets.lines import draw
from keras_latent.models import ACAI, IRMAE, VAE, VQVAE, Autoencoder
from tests.helpers import TINY

tf_only = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="TF SavedModel export is tested on the TensorFlow backend",
)


def lines(n=5, seed=0):
    return draw(np.random.default_rng(seed).uniform(0, 2 * np.pi, n))


def serve(path, x):
    """The ``serve`` endpoint of the SavedModel at ``path`` on ``x`` (kept loaded meanwhile:
    its functions need the loaded object's variables)."""
    import tensorflow as tf

    loaded = tf.saved_model.load(str(path))
    return keras.tree.map_structure(lambda t: t.numpy(), loaded.serve(x))


@tf_only
def test_the_exported_encoder_gives_the_models_codes(tmp_path):
    model = Autoencoder(**TINY, seed=1)
    x = lines()
    model.export(tmp_path / "encoder", part="encoder", verbose=False)
    np.testing.assert_allclose(serve(tmp_path / "encoder", x), model.encode(x), atol=1e-5)

    import tensorflow as tf

    loaded = tf.saved_model.load(str(tmp_path / "encoder"))
    (codes,) = loaded.signatures["serving_default"](images=tf.constant(x)).values()
    np.testing.assert_allclose(codes.numpy(), model.encode(x), atol=1e-5)


@tf_only
def test_the_exported_model_and_decoder_reconstruct(tmp_path):
    model = Autoencoder(**TINY, seed=1)
    x = lines()
    model.export(tmp_path / "model", verbose=False)  # no input_signature needed
    outputs = serve(tmp_path / "model", x)
    np.testing.assert_allclose(outputs["reconstruction"], model.reconstruct(x), atol=1e-5)
    np.testing.assert_allclose(outputs["latent"], model.encode(x), atol=1e-5)
    model.export(tmp_path / "decoder", part="decoder", verbose=False)
    z = model.encode(x)
    np.testing.assert_allclose(serve(tmp_path / "decoder", z), model.decode(z), atol=1e-5)


@tf_only
@pytest.mark.parametrize(
    "make",
    [
        lambda: IRMAE(**TINY, seed=1),
        lambda: VAE(**TINY, latent_mode="mean", seed=1),
        lambda: VQVAE(**TINY, codebook_size=8, seed=1),
    ],
    ids=["irmae", "vae", "vqvae"],
)
def test_parts_of_models_with_their_own_encode_or_decode(tmp_path, make):
    """IRMAE encodes through its linear layers, the VAE decodes ``tanh(logits / 2)`` and
    encodes to the posterior mean, the VQ-VAE decodes through its quantisation."""
    model = make()
    x = lines()
    model.export(tmp_path / "encoder", part="encoder", verbose=False)
    model.export(tmp_path / "decoder", part="decoder", verbose=False)
    z = model.encode(x)
    np.testing.assert_allclose(serve(tmp_path / "encoder", x), z, atol=1e-5)
    np.testing.assert_allclose(serve(tmp_path / "decoder", z), model.decode(z), atol=1e-5)


@pytest.mark.backend
def test_export_refuses_an_unknown_part(tmp_path):
    with pytest.raises(ValueError, match="part must be one of"):
        Autoencoder(**TINY).export(tmp_path / "x", part="critic")


@tf_only
def test_onnx_export_goes_through_keras(tmp_path):
    """ONNX goes through Keras' own exporter (with the model's input signature): without the
    onnx packages (as on our machines), Keras' own ImportError."""
    model = Autoencoder(**TINY, seed=1)
    path = tmp_path / "model.onnx"
    if find_spec("onnx") is None or find_spec("tf2onnx") is None:
        with pytest.raises(ImportError):
            model.export(path, format="onnx", verbose=False)
        return
    model.export(path, format="onnx", verbose=False)
    assert path.stat().st_size > 1000


@pytest.mark.backend
def test_from_preset_is_zoo_load():
    x = lines()
    model = ACAI.from_preset("acai_lines")
    assert type(model) is ACAI and model.compiled
    loaded = kl.zoo.load("acai_lines")
    np.testing.assert_allclose(model.reconstruct(x), loaded.reconstruct(x), atol=1e-6)
    fresh = Autoencoder.from_preset("ae_lines", weights=False, compile=False)
    assert type(fresh) is Autoencoder and not fresh.compiled


@pytest.mark.backend
def test_from_preset_takes_subclasses_and_refuses_other_classes(monkeypatch):
    """The base class takes a preset of a subclass (keras-hub's rule); a preset of another
    class is refused from its config, before the model or its weights are built."""
    assert type(Autoencoder.from_preset("acai_lines", weights=False)) is ACAI
    monkeypatch.setattr(kl.zoo, "load", lambda *a, **k: pytest.fail("loaded"))
    message = r"'ae_lines' holds a model of class Autoencoder, not ACAI or a subclass of it: "
    with pytest.raises(ValueError, match=message + r"load it with Autoencoder.from_preset"):
        ACAI.from_preset("ae_lines")
    with pytest.raises(ValueError, match=r"'vae_lines' holds a model of class VAE, not ACAI"):
        ACAI.from_preset("vae_lines", weights=False)
