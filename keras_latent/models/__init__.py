"""Autoencoder models: the plain baseline and ACAI (more arrive with their issues)."""

from keras_latent.models.aae import AAE
from keras_latent.models.acai import ACAI
from keras_latent.models.base import Autoencoder
from keras_latent.models.denoising import DenoisingAutoencoder
from keras_latent.models.dropout import DropoutAutoencoder
from keras_latent.models.vae import VAE
from keras_latent.models.vqvae import VQVAE
from keras_latent.models.wae import WAE

__all__ = ["ACAI", "Autoencoder"]
__all__ += ["AAE", "DenoisingAutoencoder", "DropoutAutoencoder", "VAE", "VQVAE", "WAE"]
