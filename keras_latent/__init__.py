"""keras-latent: a Keras 3 model zoo for regularised autoencoder latent spaces."""

from keras_latent import hardware

# Before Keras imports TensorFlow, which reads this once: oneDNN where TensorFlow would leave it
# off on an x86-64 CPU (1.7-2.1x faster training there; see keras_latent.hardware).
hardware.prefer_onednn()

from keras_latent import (  # noqa: E402
    architectures,
    datasets,
    layers,
    losses,
    metrics,
    models,
    principal_components,
    sampling,
    zoo,
)
from keras_latent.models import (  # noqa: E402
    AAE,
    ACAI,
    IRMAE,
    RAE,
    VAE,
    VQVAE,
    WAE,
    Autoencoder,
    DenoisingAutoencoder,
    DropoutAutoencoder,
    EccentricAutoencoder,
)

__version__ = "0.1.0"

__all__ = [
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
    "architectures",
    "datasets",
    "hardware",
    "layers",
    "losses",
    "metrics",
    "models",
    "principal_components",
    "sampling",
    "zoo",
]
