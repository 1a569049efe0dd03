"""keras-latent: a Keras 3 model zoo for regularised autoencoder latent spaces.

``import keras_latent`` imports neither Keras nor its backend: the submodules (``kl.zoo``,
``kl.plots``, ...) and the model classes (``kl.ACAI``, ...) are imported on first use, so the
``keras-latent`` command starts without TensorFlow, JAX or PyTorch where it needs none
(``--help``, ``list``). Keras finds keras-latent's classes in a saved model once
``keras_latent.models`` is imported: ``kl.zoo.load`` and ``keras_latent.saving`` do it, and so
does using any model class (``kl.ACAI``), and ``import keras_latent`` itself where Keras was
imported before it; otherwise ``import keras_latent.models`` before ``keras.saving.load_model``
of a ``.keras`` file.
"""

import importlib
import sys

from keras_latent import hardware

# Before Keras imports TensorFlow, which reads this once: oneDNN where TensorFlow would leave it
# off on an x86-64 CPU (1.7-2.1x faster training there; see keras_latent.hardware).
hardware.prefer_onednn()

__version__ = "0.1.0"

if "keras" in sys.modules:  # Keras is loaded already: register the model classes with it now,
    from keras_latent import models  # noqa: E402, F401  so keras.saving.load_model finds them

_MODELS = (
    "AAE",
    "ACAI",
    "IRMAE",
    "RAE",
    "VAE",
    "VQVAE",
    "WAE",
    "Autoencoder",
    "DenoisingAutoencoder",
    "DropoutAutoencoder",
    "EccentricAutoencoder",
)
_SUBMODULES = (
    "architectures",
    "callbacks",
    "campaign",
    "datasets",
    "distribute",
    "fetch",
    "files",
    "hub",
    "layers",
    "losses",
    "metrics",
    "models",
    "plots",
    "presets",
    "principal_components",
    "sampling",
    "saving",
    "tensorboard",
    "training",
    "validation",
    "zoo",
)

__all__ = [
    *_MODELS,
    "architectures",
    "datasets",
    "hardware",
    "layers",
    "losses",
    "metrics",
    "models",
    "plots",
    "principal_components",
    "sampling",
    "zoo",
]


def __getattr__(name):
    """Import a submodule or model class on first use (PEP 562)."""
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _MODELS:
        value = getattr(importlib.import_module(f"{__name__}.models"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted({*globals(), *_MODELS, *_SUBMODULES})
