"""Data-parallel ACAI on 2 virtual CPU devices: the same training as on one device.

Each test runs in a fresh process (the device count is fixed when the backend starts). A run
trains 3 steps of batch 8 with SGD (updates proportional to gradients, so a wrongly scaled or
wrongly paired gradient shows) from the same initial weights and seed, and compares with
one-device runs of the same model:

- ``keras.distribution.DataParallel`` on JAX is one global computation: the reversed-batch
  pairing is over the global batch, so it matches plain ACAI on one device;
- ``tf.distribute.MirroredStrategy`` runs each replica on its half of the batch: the pairing is
  within the replica, so it matches a one-device ACAI whose partner is the batch reversed
  within each half. Alphas are a slice of one global draw per replica, equal to one device's.

In both, the run must also differ from the one-device run with the other pairing: the check
can tell the two apart.

The other models' random draws (denoising noise, dropout mask, VAE noise, AAE and WAE prior
draws) are also per-replica slices of one global draw under ``MirroredStrategy``: given the
same images, the two replicas' training passes differ, and each replica's draws are one
device's rows for its half of the batch.
"""

import json
import os
import subprocess
import sys
from importlib.util import find_spec

import numpy as np
import pytest

from tests.helpers import REPO

COMMON = """
import json
import numpy as np
import keras
from keras import ops
from keras_latent.models import ACAI

TINY = dict(image_shape=(32, 32, 1), depth=4, latent=4, latent_width=8)
x = np.random.default_rng(0).uniform(-1, 1, (24, 32, 32, 1)).astype("float32")


class BlockPaired(ACAI):
    '''One device, paired as two replicas pair: the batch reversed within each half.'''

    def partner(self, z):
        first, second = ops.split(z, 2, axis=0)
        return ops.concatenate([ops.flip(first, axis=0), ops.flip(second, axis=0)], axis=0)


class Log(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.logs = []

    def on_train_batch_end(self, batch, logs=None):
        self.logs.append({k: float(v) for k, v in logs.items()})


initial = ACAI(**TINY, seed=0).get_weights()


def train(cls):
    model = cls(**TINY, seed=0)
    model.compile(optimizer=keras.optimizers.SGD(0.05))
    model.set_weights(initial)
    log = Log()
    model.fit(x, batch_size=8, epochs=1, shuffle=False, verbose=0, callbacks=[log])
    update = [np.ravel(w - w0) for w, w0 in zip(model.get_weights(), initial)]
    critic = np.concatenate([np.ravel(v) for v in model.critic.get_weights()])
    return {"logs": log.logs, "update": np.concatenate(update).tolist(), "critic": critic.tolist()}
"""

TENSORFLOW = (
    """
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
"""
    + COMMON
    + """
results = {"global": train(ACAI), "block": train(BlockPaired)}
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
with strategy.scope():
    results["distributed"] = train(ACAI)
    model = ACAI(**TINY, seed=3)
    per_replica = strategy.run(tf.function(lambda: model.mixing_coefficients(4)))
replica_alphas = [np.ravel(a).tolist() for a in strategy.experimental_local_results(per_replica)]
results["replica_alphas"] = replica_alphas
results["one_device_alphas"] = np.ravel(ACAI(**TINY, seed=3).mixing_coefficients(8)).tolist()
print("RESULT", json.dumps(results))
"""
)

JAX = (
    """
import jax
"""
    + COMMON
    + """
assert len(jax.devices()) == 2, jax.devices()
results = {"global": train(ACAI), "block": train(BlockPaired)}
keras.distribution.set_distribution(
    keras.distribution.DataParallel(devices=keras.distribution.list_devices())
)
results["distributed"] = train(ACAI)

# The reversal of a batch sharded over the two devices is the reversal of the global batch.
mesh = jax.sharding.Mesh(np.array(jax.devices()), ("batch",))
batch_sharding = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("batch"))
sharded = jax.device_put(x[:8], batch_sharding)
assert len(sharded.sharding.device_set) == 2
flipped = jax.jit(lambda z: ops.flip(z, axis=0))(sharded)
results["flip_is_global"] = bool(np.array_equal(np.asarray(flipped), x[:8][::-1]))
print("RESULT", json.dumps(results))
"""
)


DRAWS = """
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import json
import numpy as np
import keras
from keras_latent import distribute, models

TINY = dict(image_shape=(32, 32, 1), depth=4, latent=4, latent_width=8)
x = np.random.default_rng(0).uniform(-1, 1, (4, 32, 32, 1)).astype("float32")
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
local = strategy.experimental_local_results
results = {}

with strategy.scope():
    seed = keras.random.SeedGenerator(3)
    per_replica = strategy.run(tf.function(lambda: distribute.replica_normal((4, 3), seed)))
results["replica_normal"] = [np.asarray(v).tolist() for v in local(per_replica)]
results["one_device_normal"] = np.asarray(
    keras.random.normal((8, 3), seed=keras.random.SeedGenerator(3))
).tolist()

for name in ("DenoisingAutoencoder", "DropoutAutoencoder", "VAE", "AAE", "WAE"):
    with strategy.scope():
        model = getattr(models, name)(**TINY, seed=0)
        model(x)

        def step():
            outputs = model(x, training=True)
            total, _ = model.loss_terms(x, outputs, training=True)
            return outputs["reconstruction"], total

        reconstructions, totals = strategy.run(tf.function(step))
    results[name] = {
        "reconstructions": [np.asarray(v).tolist() for v in local(reconstructions)],
        "totals": [float(v) for v in local(totals)],
    }
print("RESULT", json.dumps(results))
"""


def run_script(backend, code, extra_env=None):
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3", **(extra_env or {}))
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300
    )
    if result.returncode != 0:
        raise AssertionError(f"{backend} subprocess failed:\n{result.stdout}\n{result.stderr}")
    line = next(v for v in result.stdout.splitlines() if v.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])


def relative_difference(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def assert_same_training(run, reference, other):
    """``run`` trains as ``reference`` (losses and weight updates) and not as ``other``."""
    for step, (got, want) in enumerate(zip(run["logs"], reference["logs"])):
        for name in ("loss", "reconstruction", "critic"):
            assert got[name] == pytest.approx(want[name], rel=1e-4, abs=1e-7), (step, name)
        assert got["adversarial"] == pytest.approx(want["adversarial"], rel=1e-3, abs=1e-9)
    assert len(run["logs"]) == len(reference["logs"]) == 3
    assert relative_difference(run["update"], reference["update"]) < 1e-3
    # The other pairing trains the critic differently: the comparison can tell them apart.
    assert relative_difference(other["critic"], reference["critic"]) > 30 * relative_difference(
        run["critic"], reference["critic"]
    )


@pytest.mark.skipif(find_spec("tensorflow") is None, reason="TensorFlow is not installed")
def test_mirrored_strategy_trains_as_one_device_with_per_replica_pairing():
    results = run_script("tensorflow", TENSORFLOW)
    assert_same_training(results["distributed"], results["block"], results["global"])
    # Each replica takes its own slice of the global draw of alphas: one device's alphas.
    first, second = results["replica_alphas"]
    np.testing.assert_allclose(first + second, results["one_device_alphas"], rtol=1e-6)
    assert not np.allclose(first, second)
    assert all(0.0 <= a <= 0.5 for a in first + second)


@pytest.mark.skipif(find_spec("jax") is None, reason="JAX is not installed")
def test_jax_data_parallel_trains_as_one_device_with_global_pairing():
    results = run_script("jax", JAX, {"XLA_FLAGS": "--xla_force_host_platform_device_count=2"})
    assert results["flip_is_global"]
    assert_same_training(results["distributed"], results["global"], results["block"])


@pytest.mark.skipif(find_spec("tensorflow") is None, reason="TensorFlow is not installed")
def test_mirrored_strategy_replicas_draw_different_noise():
    results = run_script("tensorflow", DRAWS)
    first, second = results["replica_normal"]
    np.testing.assert_allclose(first + second, results["one_device_normal"], rtol=1e-6)
    # Same images on both replicas: any training-time draw shared by the replicas would give
    # the same reconstructions (dropout, denoising, VAE) or the same loss (AAE, WAE prior).
    for name in ("DenoisingAutoencoder", "DropoutAutoencoder", "VAE"):
        a, b = results[name]["reconstructions"]
        assert not np.allclose(a, b), f"{name}: both replicas drew the same noise"
    for name in ("AAE", "WAE"):
        a, b = results[name]["totals"]
        assert a != pytest.approx(b, rel=1e-6), f"{name}: both replicas drew the same prior"
