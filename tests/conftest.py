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


MNIST_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
"""The real MNIST IDX files the tests that use :func:`mnist_dir` read."""


@pytest.fixture(scope="session")
def mnist_dir():
    """The folder of the real MNIST IDX files (:data:`MNIST_FILES`): ``$KERAS_LATENT_MNIST``,
    else ``../shared/data/mnist`` beside the repository. Where a file is missing the test is
    skipped with a reason naming the files, the folder and the variable to set."""
    given = os.environ.get("KERAS_LATENT_MNIST")
    path = Path(given) if given else REPO.parent / "shared" / "data" / "mnist"
    missing = [name for name in MNIST_FILES if not (path / name).is_file()]
    if missing:
        where = "$KERAS_LATENT_MNIST" if given else "the default; KERAS_LATENT_MNIST is not set"
        pytest.skip(
            f"needs real MNIST: {', '.join(missing)} not in {path} ({where}); set "
            "KERAS_LATENT_MNIST to the folder of the four IDX files"
        )
    return path
