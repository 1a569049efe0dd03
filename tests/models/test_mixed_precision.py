"""Mixed precision: every model trains through ``fit`` under ``mixed_bfloat16`` and
``mixed_float16`` with finite float32 losses, float32 variables and float32 numpy outputs."""

import keras
import numpy as np
import pytest

from keras_latent import models
from keras_latent.models.precision import float32
from tests.helpers import TINY

pytestmark = pytest.mark.backend

POLICIES = ("mixed_bfloat16", "mixed_float16")
# Smaller than the defaults where a default is large (2^14 codebook entries, 8 matrices).
SMALL = {
    "VQVAE": dict(codebook_size=16, num_latents=2, hidden_size=16),
    "IRMAE": dict(linear_layers=2),
}
MODELS = sorted(models.__all__)


@pytest.fixture
def policy(request):
    """Sets the global dtype policy to ``request.param``; restores the previous one after."""
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(request.param)
    yield request.param
    keras.mixed_precision.set_global_policy(previous)


def dtype(x):
    return keras.backend.standardize_dtype(x.dtype)


def test_float32_casts_floats_only():
    tree = {"a": keras.ops.ones((2,), dtype="bfloat16"), "b": keras.ops.ones((2,), "int32")}
    cast = float32(tree)
    assert dtype(cast["a"]) == "float32"
    assert dtype(cast["b"]) == "int32"


@pytest.mark.parametrize("policy", POLICIES, indirect=True)
@pytest.mark.parametrize("name", MODELS)
def test_model_trains_under_policy(name, policy, random_images):
    compute = policy.split("_")[1]
    model = getattr(models, name)(**TINY, num_classes=3, seed=0, **SMALL.get(name, {}))
    assert model.dtype_policy.name == policy
    x = random_images(8)
    y = np.arange(8) % 3

    # On TensorFlow eager steps keep 22 fits fast (tracing dominates); test_compiled_fit and the
    # codebook test run the traced step there. JAX is the other way round (eager is slow).
    model.compile(run_eagerly=keras.backend.backend() == "tensorflow")
    history = model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    logs = {key: value[-1] for key, value in history.history.items()}
    assert {"loss", "probe_loss", *model.loss_names} <= set(logs)
    assert all(np.isfinite(value) for value in logs.values()), logs
    if policy == "mixed_float16":  # Keras' compile wraps the paper's Adam for loss scaling
        assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
        assert isinstance(model.optimizer.inner_optimizer, keras.optimizers.Adam)
    assert all(dtype(v) == "float32" for v in model.weights if "float" in dtype(v))

    # Half-precision compute, float32 losses.
    outputs = model(x[:4], training=True)
    assert dtype(outputs["reconstruction"]) == compute
    total, terms = model.loss_terms(keras.ops.convert_to_tensor(x[:4]), float32(outputs), True)
    assert dtype(total) == "float32"
    assert all(dtype(value) == "float32" for value in terms.values()), terms
    assert dtype(model.compute_loss(x[:4], y[:4], outputs)) == "float32"

    # Numpy in, numpy out: float32.
    assert model.encode(x[:3]).dtype == np.float32
    assert model.reconstruct(x[:3]).dtype == np.float32
    if name in ("AAE", "VAE", "WAE"):  # decoders of prior draws
        assert model.sample(2, seed=0).dtype == np.float32


@pytest.mark.parametrize("policy", POLICIES, indirect=True)
def test_compiled_fit(policy, random_images):
    """ACAI's traced step (critic, stop-gradient weights, probe); the VQ-VAE's is traced below."""
    model = models.ACAI(**TINY, num_classes=3, seed=0)
    assert model.dtype_policy.name == policy
    history = model.fit(random_images(8), np.arange(8) % 3, batch_size=4, verbose=0)
    assert not model.run_eagerly
    assert all(np.isfinite(value).all() for value in history.history.values())
    x = random_images(4)
    assert model.interpolate(x[:2], x[2:], steps=3).dtype == np.float32


@pytest.mark.parametrize("policy", POLICIES, indirect=True)
def test_adversaries_score_in_float32(policy, random_images):
    x = keras.ops.convert_to_tensor(random_images(4))
    acai = models.ACAI(**TINY, seed=0)
    assert dtype(acai.critic_frozen(x)) == "float32"
    aae = models.AAE(**TINY, seed=0)
    codes = keras.ops.ones((4, aae.latent_size))
    assert dtype(aae.discriminator_frozen(codes)) == "float32"


@pytest.mark.parametrize("policy", POLICIES, indirect=True)
def test_vq_codebook_and_moving_averages_stay_float32(policy, random_images):
    model = models.VQVAE(**TINY, seed=0, **SMALL["VQVAE"])
    quantizer = model.quantizer
    assert quantizer.compute_dtype == "float32"
    before = keras.ops.convert_to_numpy(quantizer.ema_count).copy()
    model.fit(random_images(8), batch_size=4, epochs=1, verbose=0)  # traced step
    assert not model.run_eagerly
    for variable in (quantizer.codebook, quantizer.ema_count, quantizer.ema_sum):
        assert dtype(variable) == "float32"
    counts = keras.ops.convert_to_numpy(quantizer.ema_count)
    # Two updates of 8 vectors each (batch 4 x 2 codes), decay 0.999, from N = 0: sum N grows
    # by 8 (1 - 0.999)(1 + 0.999). In bfloat16, 0.999 rounds to 1 and N would not move.
    expected = 8 * (1 - 0.999) * (1 + 0.999)
    np.testing.assert_allclose(counts.sum() - before.sum(), expected, rtol=1e-4)
