"""Datasets: the generated lines benchmark, the papers' image datasets (``load``) and your own
images (``from_directory``; ``check_background`` warns when they look unlike a model's
training images, e.g. inverted digits), and ``ArrayStream`` to feed arrays to ``fit``.
"""

from keras_latent.datasets import lines
from keras_latent.datasets.background import BackgroundWarning, check_background
from keras_latent.datasets.feeding import ArrayStream
from keras_latent.datasets.folder import from_directory
from keras_latent.datasets.images import NAMES, SPLITS, load

__all__ = [
    "NAMES",
    "SPLITS",
    "ArrayStream",
    "BackgroundWarning",
    "check_background",
    "from_directory",
    "lines",
    "load",
]
