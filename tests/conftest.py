"""Shared fixtures: random images, the shared MNIST folder."""

import os
from pathlib import Path

# First, as users import it: it chooses TensorFlow's CPU kernels (keras_latent.hardware).
import keras_latent  # noqa: F401

# isort: split
import keras
import numpy as np
import pytest

from tests.helpers import REPO


@pytest.fixture(autouse=True)
def seeded():
    """Every test starts from the same global seed (weights, shuffles), whatever ran before."""
    keras.utils.set_random_seed(0)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty ``KERAS_LATENT_HOME`` (the preset download cache) under ``tmp_path``."""
    home = tmp_path / "home"
    monkeypatch.setenv("KERAS_LATENT_HOME", str(home))
    return home


@pytest.fixture
def random_images():
    def make(n, shape=(32, 32, 1), seed=0):
        rng = np.random.default_rng(seed)
        return rng.uniform(-1.0, 1.0, (n, *shape)).astype("float32")

    return make


@pytest.fixture(scope="session")
def mnist_dir():
    """``../shared/data/mnist`` (or ``$KERAS_LATENT_MNIST``); skipped where absent."""
    path = Path(os.environ.get("KERAS_LATENT_MNIST", REPO.parent / "shared" / "data" / "mnist"))
    if not (path / "train-images-idx3-ubyte.gz").exists():
        pytest.skip(f"real MNIST IDX files not found in {path} (set KERAS_LATENT_MNIST)")
    return path
