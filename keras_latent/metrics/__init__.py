"""Metrics: lines interpolation, representation (probe, clustering), Fréchet distances."""

from keras_latent.metrics import classifiers, frechet, kmeans, lines, representation

__all__ = ["classifiers", "frechet", "kmeans", "lines", "representation"]
