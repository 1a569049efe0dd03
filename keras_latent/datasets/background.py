"""Is a user's image far from what a preset was trained on? The background check.

Models trained on a uniform background (MNIST, Fashion-MNIST and lines: light strokes on a
background of -1) encode images with another background poorly: an interpolation between two
dark-on-light digits can come out as a row of identical blobs. This module
measures an image's background as the **median of its border pixels** (the outermost
``max(1, side // 16)`` rows and columns: 2 for 32x32 images, all channels) and compares it with
the training images' background level ``b`` (:func:`expected_background`).

Rule: an image is *far* when ``|median - b| > THRESHOLD`` (1.0, half the [-1, 1] range). For
``b = -1`` this flags every image whose border is mostly lighter than mid-grey (pixel 127.5 of
255), i.e. a light background. In [-1, 1], a median and a level more than 1 apart have opposite
signs, so inverting a far image (``-x`` in [-1, 1], ``255 - p`` for 8-bit pixels) always brings
its median within the threshold: a far image looks inverted. :func:`check_background` warns
(:class:`BackgroundWarning`) naming those images and saying how to invert them.

The padded MNIST and Fashion-MNIST images have a border of exactly -1 (2 pixels of padding on
each side), and so do the lines (``keras_latent.datasets.lines``); other datasets (SVHN,
CIFAR-10, CelebA) have no uniform background and are not checked.
"""

import warnings
from numbers import Real

import numpy as np

THRESHOLD = 1.0
"""Largest ``|border median - training background|`` of an image near the training data."""

BACKGROUNDS = {"mnist": -1.0, "fashion_mnist": -1.0, "lines": -1.0}
"""The border level, in [-1, 1], of every training image of the datasets with a uniform
background (``keras_latent.datasets.load`` names); a test measures them on the data."""


class BackgroundWarning(UserWarning):
    """Images whose background is far from the background of the model's training images:
    the model will encode them badly (e.g. dark digits on a light background for an MNIST
    model, which expects light digits on black)."""


def border_level(x):
    """The median of each image's border pixels: ``(n,)`` float32 for ``x`` of shape
    ``(n, H, W, C)`` (or one image ``(H, W, C)``: shape ``()``). The border is the outermost
    ``max(1, min(H, W) // 16)`` rows and columns, all channels."""
    x = np.asarray(x, dtype=np.float32)
    single = x.ndim == 3
    if single:
        x = x[None]
    if x.ndim != 4 or min(x.shape[1:3]) < 2:
        raise ValueError(f"images must have shape (n, H, W, C) with H, W >= 2, got {x.shape}")
    width = max(1, min(x.shape[1:3]) // 16)
    inner = np.ones(x.shape[1:3], dtype=bool)
    inner[width:-width, width:-width] = False
    levels = np.median(x[:, inner, :].reshape(len(x), -1), axis=1).astype(np.float32)
    return levels[0] if single else levels


def expected_background(source):
    """The training images' background level ``b`` in [-1, 1], or None (not known: no check).

    ``source``: None (unknown); a number (``b`` itself); a ``keras_latent.datasets`` name
    (:data:`BACKGROUNDS`; the others have none); a preset's metadata dict, whose
    ``dataset["background"]`` wins, else its ``dataset["data"]`` name is looked up; or a
    preset name, folder or URL (its metadata, ``keras_latent.zoo.describe``).
    """
    from keras_latent.datasets.images import NAMES

    if source is None:
        return None
    if isinstance(source, Real) and not isinstance(source, bool):
        return float(source)
    if isinstance(source, str) and source in NAMES:
        return BACKGROUNDS.get(source)
    if not isinstance(source, dict):
        from keras_latent import zoo

        source = zoo.describe(source)
    dataset = source.get("dataset") or {}
    level = dataset.get("background")
    if isinstance(level, Real) and not isinstance(level, bool):
        return float(level)
    return BACKGROUNDS.get(dataset.get("data"))


def far_from_background(x, background):
    """Boolean ``(n,)``: where an image's border median is more than :data:`THRESHOLD` from
    ``background``."""
    return np.atleast_1d(np.abs(border_level(x) - background) > THRESHOLD)


def check_background(x, source, names=None, stacklevel=2):
    """Warn (:class:`BackgroundWarning`) when images in [-1, 1] have a background far from the
    training images' (see the module's rule); return the boolean ``(n,)`` mask of those images.

    Args:
        x: images ``(n, H, W, C)`` (or one ``(H, W, C)``), float in [-1, 1].
        source: what the model was trained on (:func:`expected_background`): a dataset name
            such as ``"mnist"``, a preset's metadata, a preset name or folder, or the level.
            Unknown (None) or a dataset without a uniform background: nothing is checked.
        names: a name per image for the message (file names), default ``image i``.
        stacklevel: passed to ``warnings.warn``.
    """
    x = np.asarray(x, dtype=np.float32)
    n = 1 if x.ndim == 3 else len(x)
    background = expected_background(source)
    if background is None:
        return np.zeros(n, dtype=bool)
    far = far_from_background(x, background)
    if far.any():
        names = [f"image {i}" for i in range(n)] if names is None else [str(s) for s in names]
        listed = ", ".join(names[i] for i in np.flatnonzero(far)[:10])
        more = f" and {int(far.sum()) - 10} more" if far.sum() > 10 else ""
        levels = np.atleast_1d(border_level(x))[far]
        shown = ", ".join(f"{v:+.2f}" for v in levels[:3]) + (", ..." if len(levels) > 3 else "")
        message = (
            f"{listed}{more}: the background is {_shade(levels[0])} (border median {shown}; -1 "
            f"is black, +1 white) where the model's training images have a "
            f"{_shade(background)} one ({background:+g}): they look inverted, and the model "
            "encodes such images badly. Invert them: `x = -x` for images in [-1, 1], "
            "`255 - pixels` for 8-bit files, or --invert for the keras-latent commands"
        )
        warnings.warn(message, BackgroundWarning, stacklevel=stacklevel)
    return far


def _shade(level):
    return "light" if level > 0 else "dark" if level < 0 else "mid-grey"
