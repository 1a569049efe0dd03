"""Autoencoder models: the plain baseline and ACAI (more arrive with their issues)."""

from keras_latent.models.acai import ACAI
from keras_latent.models.base import Autoencoder
from keras_latent.models.eccentric import EccentricAutoencoder
from keras_latent.models.irmae import IRMAE
from keras_latent.models.rae import RAE

__all__ = ["ACAI", "Autoencoder"]
__all__ += ["EccentricAutoencoder", "IRMAE", "RAE"]
