"""Shared test helpers: backend-agnostic gradients, subprocess backends, tiny configs."""

import os
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

import keras
import numpy as np

from keras_latent.datasets import idx

REPO = Path(__file__).resolve().parents[1]
BACKENDS = ("tensorflow", "jax", "torch")

# Tiny architecture for fast tests: 32x32 images, 4x4x4 latent (d_z 64), 2 scales.
TINY = dict(image_shape=(32, 32, 1), depth=4, latent=4, latent_width=8)


def installed_backends():
    return [b for b in BACKENDS if find_spec(b) is not None]


def run_in_backend(backend, code, timeout=300):
    """Run python ``code`` in a fresh process under ``KERAS_BACKEND=backend``; return stdout."""
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=timeout
    )
    if result.returncode != 0:
        raise AssertionError(f"{backend} subprocess failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def gradients(loss_fn, variables):
    """Gradients of the scalar ``loss_fn()`` with respect to Keras ``variables``, as numpy.

    A variable the loss does not depend on gets zeros.
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            loss = loss_fn()
        grads = tape.gradient(loss, [v.value for v in variables])
    elif backend == "jax":
        import jax

        def stateless_loss(values):
            with keras.StatelessScope(state_mapping=list(zip(variables, values))):
                return loss_fn()

        grads = jax.grad(stateless_loss)([v.value for v in variables])
    elif backend == "torch":
        import torch

        loss = loss_fn()
        grads = torch.autograd.grad(loss, [v.value for v in variables], allow_unused=True)
    else:
        raise NotImplementedError(backend)
    return [
        np.zeros(v.shape) if g is None else keras.ops.convert_to_numpy(g)
        for g, v in zip(grads, variables)
    ]


def write_mnist(folder, n_train=24, n_test=16):
    """A tiny MNIST-format folder (random digits) for fast image-preset runs."""
    rng = np.random.default_rng(0)
    for stem, n in (("train", n_train), ("t10k", n_test)):
        idx.write_idx(
            folder / f"{stem}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28), "u1")
        )
        idx.write_idx(folder / f"{stem}-labels-idx1-ubyte.gz", rng.integers(0, 10, n, "u1"))
    return folder


def tiny_zoo(folder, monkeypatch, trained, images):
    """A zoo folder for the tests of the commands that add to presets: tiny MNIST presets
    ``trained`` (``{name: model class}``) with weights, ``new`` (an autoencoder) without, and
    ``datasets.load`` standing in with ``images`` random images. Returns the list its calls
    are recorded in, ``(name, split, data_dir)`` each."""
    from keras_latent import datasets, zoo
    from keras_latent.models import Autoencoder

    weights = {"weights": {"images_seen": 0}}
    for name, model_class in trained.items():
        zoo.save_preset(model_class(**TINY, name=name), folder / name, weights, data="mnist")
    zoo.save_preset(Autoencoder(**TINY, name="new"), folder / "new", data="mnist")
    (folder / "new" / zoo.WEIGHTS_FILE).unlink()
    calls = []

    def load(name, split="train", data_dir=None):
        calls.append((name, split, data_dir))
        x = np.random.default_rng(0).uniform(-1, 1, (images, *TINY["image_shape"]))
        return x.astype("float32"), None

    monkeypatch.setattr(datasets, "load", load)
    return calls
