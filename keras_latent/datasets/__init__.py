"""Datasets: the generated lines benchmark (more arrive with the datasets issue)."""

from keras_latent.datasets import lines

__all__ = ["lines"]
