"""keras-latent: a Keras 3 model zoo for regularised autoencoder latent spaces."""

from keras_latent import (
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
from keras_latent.models import (
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
    "layers",
    "losses",
    "metrics",
    "models",
    "principal_components",
    "sampling",
    "zoo",
]
