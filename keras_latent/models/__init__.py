"""Autoencoder models: the plain baseline, ACAI, the ACAI paper's baselines, and the eccentric
autoencoder with the baselines of its paper."""

from keras_latent.models.aae import AAE
from keras_latent.models.acai import ACAI
from keras_latent.models.base import Autoencoder
from keras_latent.models.denoising import DenoisingAutoencoder
from keras_latent.models.dropout import DropoutAutoencoder
from keras_latent.models.eccentric import EccentricAutoencoder
from keras_latent.models.irmae import IRMAE
from keras_latent.models.rae import RAE
from keras_latent.models.vae import VAE
from keras_latent.models.vqvae import VQVAE
from keras_latent.models.wae import WAE

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
]
