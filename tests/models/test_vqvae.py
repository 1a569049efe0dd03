"""VQ-VAE: the codebook moves only by its moving averages; quantisation, training, saving."""

import inspect

import keras
import numpy as np
import pytest

from keras_latent.models import VQVAE
from keras_latent.models.vqvae import VectorQuantizer, perplexity
from tests.helpers import TINY, gradients
from tests.models.common import fit_on_lines, lines, round_trip

pytestmark = pytest.mark.backend


def tiny_vqvae(**kwargs):
    kwargs = dict(dict(codebook_size=32, num_latents=2, hidden_size=64), **kwargs)
    return VQVAE(**TINY, seed=7, **kwargs)


def numpy(x):
    return keras.ops.convert_to_numpy(x)


def gradient_of(loss_fn, variable):
    """Gradient of ``loss_fn()`` with respect to any variable, trainable or not, as numpy."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            tape.watch(variable.value)
            loss = loss_fn()
        grad = tape.gradient(loss, variable.value)
        return np.zeros(variable.shape) if grad is None else grad.numpy()
    if backend == "jax":
        return gradients(loss_fn, [variable])[0]  # differentiates any variable's value
    import torch

    value = variable.value
    value.requires_grad_(True)
    try:
        (grad,) = torch.autograd.grad(loss_fn(), [value], allow_unused=True)
    finally:
        value.requires_grad_(False)
    return np.zeros(variable.shape) if grad is None else grad.numpy()


def test_defaults_are_the_official_ones():
    defaults = {name: p.default for name, p in inspect.signature(VQVAE.__init__).parameters.items()}
    assert defaults["codebook_size"] == 2**14
    assert defaults["num_latents"] == 10
    assert defaults["commitment"] == 10.0
    assert defaults["decay"] == 0.999
    assert defaults["epsilon"] == 1e-5
    assert defaults["hidden_size"] == 512


def test_codebook_is_not_trained_by_gradients():
    model = tiny_vqvae()
    quantizer = model.quantizer
    codebook_vars = [quantizer.codebook, quantizer.ema_count, quantizer.ema_sum]
    assert not any(v.trainable for v in codebook_vars)
    trainable = {id(v) for v in model.trainable_variables}
    assert not trainable & {id(v) for v in codebook_vars}

    x = keras.ops.convert_to_tensor(lines(8))

    def loss():
        return model.loss_terms(x, model(x, training=False), training=False)[0]

    assert np.all(gradient_of(loss, quantizer.codebook) == 0)

    # The straight-through estimator carries the reconstruction's gradient to the encoder.
    def reconstruction():
        return model.loss_terms(x, model(x, training=False), training=False)[1]["reconstruction"]

    encoder_grads = gradients(reconstruction, model.encoder.trainable_variables)
    assert all(np.abs(g).max() > 0 for g in encoder_grads)


def test_one_training_step_moves_the_codebook_by_the_ema_formula():
    model = tiny_vqvae()
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    q = model.quantizer
    k, gamma, eps = q.codebook_size, q.decay, q.epsilon
    count, total, codebook = (
        numpy(v).astype("float64") for v in (q.ema_count, q.ema_sum, q.codebook)
    )
    x = lines(16)
    outputs = model(x, training=False)  # the step's forward pass, with the same weights
    e = numpy(outputs["pre_quantized"]).reshape(-1, model.latent_size).astype("float64")
    codes = numpy(outputs["codes"]).reshape(-1)

    counts = np.bincount(codes, minlength=k)
    sums = np.zeros_like(total)
    np.add.at(sums, codes, e)
    count = gamma * count + (1 - gamma) * counts
    total = gamma * total + (1 - gamma) * sums
    n = count.sum()
    expected = total / ((count + eps) / (n + k * eps) * n)[:, None]

    model.train_on_batch(x)
    assert not np.allclose(numpy(q.codebook), codebook)
    np.testing.assert_allclose(numpy(q.ema_count), count, rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(numpy(q.ema_sum), total, rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(numpy(q.codebook), expected, rtol=1e-4, atol=1e-6)


def test_inference_leaves_the_codebook_alone():
    model = tiny_vqvae()
    before = numpy(model.quantizer.codebook).copy()
    x = lines(8)
    model(x, training=False)
    model.interpolate(x[:2], x[2:4], steps=3)
    model.predict(x, verbose=0)
    np.testing.assert_array_equal(numpy(model.quantizer.codebook), before)


def test_vectors_are_replaced_by_their_nearest_codebook_entry():
    model = tiny_vqvae()
    outputs = model(lines(8), training=False)
    e = numpy(outputs["pre_quantized"]).reshape(-1, model.latent_size)
    codebook = numpy(model.quantizer.codebook)
    distances = ((e[:, None, :] - codebook[None]) ** 2).sum(-1)
    codes = numpy(outputs["codes"]).reshape(-1)
    chosen = distances[np.arange(len(e)), codes]
    np.testing.assert_allclose(chosen, distances.min(axis=1), rtol=1e-4)
    np.testing.assert_allclose(
        numpy(outputs["quantized"]).reshape(-1, model.latent_size), codebook[codes], rtol=1e-6
    )


def test_decode_quantizes_the_continuous_code():
    model = tiny_vqvae()
    x = lines(6)
    h = model.encode(x)
    assert h.shape == (6, *model.latent_shape)  # the continuous encoder output
    np.testing.assert_allclose(
        model.decode(h), numpy(model(x, training=False)["reconstruction"]), atol=1e-5
    )
    np.testing.assert_allclose(model.reconstruct(x), model.decode(h), atol=1e-5)
    nudged = model.decode(h + 1e-4)  # a small move stays on the same codes: the same image
    np.testing.assert_allclose(nudged, model.decode(h), atol=1e-4)


def test_perplexity_counts_the_codes_in_use():
    assert float(perplexity(np.array([[0, 1], [2, 3]]), 8)) == pytest.approx(4.0, rel=1e-5)
    assert float(perplexity(np.array([[5, 5, 5]]), 8)) == pytest.approx(1.0, rel=1e-5)


def test_fit_on_lines_lowers_the_loss_and_logs_perplexity():
    logs = fit_on_lines(tiny_vqvae())
    assert set(logs) >= {"reconstruction", "commitment", "perplexity"}
    assert logs["loss"][-1] < 0.5 * logs["loss"][0]
    assert all(1.0 <= p <= 32.0 for p in logs["perplexity"])


def test_keras_round_trip_keeps_the_codebook(tmp_path):
    model = tiny_vqvae(codebook_size=16)
    x = lines(8)
    rng = np.random.default_rng(1)
    for v in (model.quantizer.codebook, model.quantizer.ema_count, model.quantizer.ema_sum):
        v.assign(rng.uniform(0.5, 1.0, v.shape).astype("float32"))  # not the initial values

    def same_codebook(loaded):
        for name in ("codebook", "ema_count", "ema_sum"):
            np.testing.assert_allclose(
                numpy(getattr(loaded.quantizer, name)), numpy(getattr(model.quantizer, name))
            )

    loaded = round_trip(model, tmp_path / "vqvae.keras", x, check=same_codebook)
    assert loaded.codebook_size == 16


@pytest.mark.parametrize(
    "kwargs, error",
    [
        (dict(codebook_size=0), ValueError),
        (dict(codebook_size=-3), ValueError),
        (dict(codebook_size=2.5), TypeError),
        (dict(num_latents=0), ValueError),
        (dict(commitment=-1.0), ValueError),
        (dict(decay=1.0), ValueError),
        (dict(decay=-0.1), ValueError),
        (dict(epsilon=0.0), ValueError),
        (dict(hidden_size=0), ValueError),
    ],
)
def test_bad_hyperparameters_are_refused(kwargs, error):
    with pytest.raises(error, match=next(iter(kwargs))):
        tiny_vqvae(**kwargs)


def test_the_quantizer_layer_checks_its_arguments():
    with pytest.raises(ValueError, match="codebook_size"):
        VectorQuantizer(0, 4)
