"""Dataset tests run offline and independent of the machine's data folders."""

import pytest

from keras_latent.datasets import tfds_source


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    """No TensorFlow Datasets lookup (tests that need one mock it) and no $KERAS_LATENT_DATA."""
    monkeypatch.setattr(
        tfds_source, "locate", lambda name, split, download=False: (None, "disabled in tests")
    )
    monkeypatch.delenv("KERAS_LATENT_DATA", raising=False)
