# ---
# jupyter:
#   jupytext:
#     formats: py:percent,ipynb
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 6. Backends and devices: one code path
#
# Every keras-latent model is a `keras.Model` whose losses live in `compute_loss`, the hook
# that Keras' own `train_step` calls on TensorFlow, JAX and PyTorch alike. So the same script
# runs on any backend, weights move between backends, and Keras' mixed precision and
# distribution APIs apply unchanged.
#
# The backend is chosen once per process, before Keras is imported, with the environment
# variable `KERAS_BACKEND` (`tensorflow`, the default, `jax` or `torch`). This notebook runs
# on one backend and starts a fresh Python process per backend to show the others.
#
# **Quick mode** (`KERAS_LATENT_TUTORIAL_QUICK=1`): fewer training steps. Figures go to
# `KERAS_LATENT_TUTORIAL_OUTPUT` (default `figures/`).

# %%
import json
import os
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

# keras_latent before keras: on TensorFlow it turns on the oneDNN CPU kernels, which TensorFlow
# enables by itself only on CPUs with AVX512-VNNI, AVX512-BF16 or AMX (the models train
# 1.7-2.1x faster with them on the others: benchmarks/README.md).
import keras_latent as kl
from keras_latent import plots
from keras_latent.datasets.lines import LinesStream

# isort: split
import keras
import matplotlib.pyplot as plt
import numpy as np

QUICK = os.environ.get("KERAS_LATENT_TUTORIAL_QUICK") == "1"
FIGURES = Path(os.environ.get("KERAS_LATENT_TUTORIAL_OUTPUT", "figures"))
FIGURES.mkdir(parents=True, exist_ok=True)
STEPS = 4 if QUICK else 100  # training steps per run
print("this process runs Keras", keras.__version__, "on", keras.backend.backend())


def run_python(code, **env):
    """Run ``code`` in a fresh Python process with extra environment variables; return the
    JSON object it prints last."""
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **env},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"subprocess failed ({env}):\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


# %% [markdown]
# ## The same code on every backend
#
# One function: load the shipped `acai_lines` model (its weights were saved on TensorFlow),
# decode an interpolation between two test lines, and train a fresh copy for a few steps. We
# call it here, on this process's backend, and in a fresh process for each other installed
# backend, and compare what they return.

# %%
SNIPPET = f"""
import json, keras, numpy as np
import keras_latent as kl
from keras_latent.datasets.lines import LinesStream, test_set

def same_code():
    images, _ = test_set()
    model = kl.zoo.load("acai_lines")
    frames = model.interpolate(images[:1], images[1:2], steps=8)
    fresh = kl.zoo.load("acai_lines", weights=False)
    keras.utils.set_random_seed(0)
    stream = LinesStream(batch_size=32, steps_per_epoch={STEPS}, seed=0)
    history = fresh.fit(stream, verbose=0)
    return {{"frames": frames.tolist(), "loss": history.history["loss"][-1]}}
"""

here = keras.backend.backend()
namespace = {}
exec(SNIPPET, namespace)  # the same code, run in this process
runs = {here: namespace["same_code"]()}
for backend in ("tensorflow", "jax", "torch"):
    if backend != here and find_spec(backend) is not None:
        code = SNIPPET + "\nprint(json.dumps(same_code()))"
        runs[backend] = run_python(code, KERAS_BACKEND=backend)
frames = {backend: np.array(run["frames"], dtype="float32") for backend, run in runs.items()}
for backend, run in runs.items():
    difference = np.abs(frames[backend] - frames[here]).max()
    print(
        f"{backend:>10}: training loss after {STEPS} steps {run['loss']:.4f}; "
        f"max |frames - {here}'s| = {difference:.1e}"
    )
path = plots.save_grid(
    np.concatenate(list(frames.values())),
    FIGURES / "06_backends.png",
    title="the same interpolation decoded on " + ", ".join(frames),
)
plots.show(path)

# %% [markdown]
# The decoded frames agree to float32 rounding. Training losses differ slightly: each backend
# draws its own random numbers (ACAI's mixing coefficients, fresh weights) from the same seed.
#
# ## Mixed precision
#
# Under Keras' `mixed_bfloat16` policy, layers compute in bfloat16 and keep float32 weights;
# keras-latent casts model outputs, ACAI's decoded mixes and critic scores to float32 before
# every loss, so the losses and their reductions stay in float32. bfloat16 has float32's
# range, so no loss scaling is needed. On CPUs with bfloat16 units (x86 `avx512_bf16` or
# `amx_bf16`) and on recent GPUs and TPUs it is faster. A CPU without them emulates bfloat16
# and trains several times *slower* than in float32: there `fit` says so once, with a
# `kl.hardware.SlowTrainingWarning`, and float32 is the policy to use.


# %%
def train_lines(policy):
    """Loss history of a fresh acai_lines model trained under a dtype policy."""
    keras.mixed_precision.set_global_policy(policy)
    try:
        keras.utils.set_random_seed(0)
        model = kl.zoo.load("acai_lines", weights=False)
        layer = next(v for v in model.encoder.layers if isinstance(v, keras.layers.Conv2D))
        print(
            f"{policy}: {layer.name} computes in {layer.compute_dtype}, "
            f"keeps weights in {layer.variable_dtype}"
        )
        stream = LinesStream(batch_size=32, steps_per_epoch=STEPS, seed=0)
        history = model.fit(stream, epochs=3, verbose=0)
        return history.history
    finally:
        keras.mixed_precision.set_global_policy("float32")


histories = {policy: train_lines(policy) for policy in ("float32", "mixed_bfloat16")}
full, mixed = (np.array(h["reconstruction"]) for h in histories.values())
print("largest relative difference of the epoch losses:", np.max(np.abs(mixed / full - 1)))
figure, axis = plt.subplots(figsize=(5, 3))
for policy, history in histories.items():
    axis.plot(np.arange(1, 4) * STEPS, history["reconstruction"], "o-", label=policy)
axis.set_xlabel("training step")
axis.set_ylabel("reconstruction loss")
axis.legend(fontsize=8)
figure.tight_layout()
path = FIGURES / "06_mixed_precision.png"
figure.savefig(path, dpi=100)
plt.close(figure)
plots.show(path)

# %% [markdown]
# Same seed, same batches: the two runs follow each other closely. bfloat16 keeps 8 bits of
# mantissa, so each step's result differs slightly and the runs can drift apart over long
# training; compare your model's metrics under both policies before switching.
#
# ## Data-parallel training
#
# `keras.distribution.DataParallel` replicates the model on every device and splits each
# batch between them; gradients are averaged. We run it on JAX, where Keras' distribution API
# is most complete. Without several accelerators we can still watch it work: XLA can split
# the CPU into virtual devices (`--xla_force_host_platform_device_count`), which must be set
# before JAX starts, hence a fresh process. On a machine with GPUs, drop `XLA_FLAGS` and list
# the `"gpu"` devices.

# %%
PARALLEL = f"""
import json, keras
devices = keras.distribution.list_devices("cpu")
keras.distribution.set_distribution(keras.distribution.DataParallel(devices=devices))
import keras_latent as kl
from keras_latent.datasets.lines import LinesStream

model = kl.zoo.load("ae_lines", weights=False)
history = model.fit(LinesStream(batch_size=64, steps_per_epoch={STEPS}, seed=0), verbose=0)
print(json.dumps({{"devices": devices, "loss": history.history["loss"][-1],
                   "batch_sharding": str(model.trainable_variables[0].value.sharding)}}))
"""

if find_spec("jax") is None:
    print("JAX is not installed: pip install jax")
else:
    parallel = run_python(
        PARALLEL, KERAS_BACKEND="jax", XLA_FLAGS="--xla_force_host_platform_device_count=2"
    )
    print(f"devices {parallel['devices']}: loss after {STEPS} steps {parallel['loss']:.4f}")
    print("weights are replicated:", parallel["batch_sharding"])

# %% [markdown]
# Each of the two devices processed 32 of every batch of 64. The model and `fit` call are the
# ones of a single-device run: only the distribution was set. The same holds on real devices
# (`keras.distribution.list_devices("gpu")`), and `ModelParallel` shards large weights too.
