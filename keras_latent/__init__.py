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
)
from keras_latent.models import ACAI, IRMAE, RAE, Autoencoder, EccentricAutoencoder

__version__ = "0.1.0"

__all__ = ["ACAI", "Autoencoder", "architectures", "datasets", "layers", "metrics", "models"]
__all__ += ["EccentricAutoencoder", "IRMAE", "RAE", "losses", "principal_components", "sampling"]
