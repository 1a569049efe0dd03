"""Autoencoder models: the plain baseline and ACAI (more arrive with their issues)."""

from keras_latent.models.acai import ACAI
from keras_latent.models.base import Autoencoder

__all__ = ["ACAI", "Autoencoder"]
