"""Metrics: the lines interpolation benchmark (more arrive with their issues)."""

from keras_latent.metrics import lines

__all__ = ["lines"]
