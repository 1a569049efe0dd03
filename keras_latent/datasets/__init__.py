"""Datasets: the generated lines benchmark and the papers' image datasets (``load``)."""

from keras_latent.datasets import lines
from keras_latent.datasets.images import NAMES, SPLITS, load

__all__ = ["NAMES", "SPLITS", "lines", "load"]
