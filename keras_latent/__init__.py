"""keras-latent: a Keras 3 model zoo for regularised autoencoder latent spaces."""

from keras_latent import architectures, datasets, layers, metrics, models, zoo
from keras_latent.models import (
    AAE,
    ACAI,
    VAE,
    VQVAE,
    WAE,
    Autoencoder,
    DenoisingAutoencoder,
    DropoutAutoencoder,
)

__version__ = "0.1.0"

__all__ = [
    "AAE",
    "ACAI",
    "VAE",
    "VQVAE",
    "WAE",
    "Autoencoder",
    "DenoisingAutoencoder",
    "DropoutAutoencoder",
    "architectures",
    "datasets",
    "layers",
    "metrics",
    "models",
    "zoo",
]
