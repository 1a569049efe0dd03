"""Sampling from a model's N(0, std^2 I) latent prior (VAE, AAE, WAE)."""

import numpy as np

from keras_latent.models import checks


def sample_prior(model, n, seed=None, std=1.0, batch_size=256):
    """Decode ``n`` codes drawn from ``N(0, std^2 I)`` on the flattened latent.

    Draws with ``np.random.default_rng(seed)``: an int seed gives the same images every call;
    ``seed=None`` fresh ones from the operating system's entropy (the prior keeps no stream of
    its own, unlike a fitted latent sampler). Reshapes to the model's spatial latent and returns
    ``model.decode(z)``: images ``(n, H, W, C)``.
    """
    n = checks.integer("n", n)
    z = np.random.default_rng(seed).standard_normal((n, model.latent_size)) * std
    return model.decode(z.astype("float32"), batch_size=batch_size)
