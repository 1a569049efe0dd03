"""keras-latent: a Keras 3 model zoo for regularised autoencoder latent spaces."""

from keras_latent import architectures, datasets, layers, metrics, models, zoo
from keras_latent.models import ACAI, Autoencoder

__version__ = "0.1.0"

__all__ = [
    "ACAI",
    "Autoencoder",
    "architectures",
    "datasets",
    "layers",
    "metrics",
    "models",
    "zoo",
]
