"""Fréchet distance between Gaussians fitted to features of two image sets.

For ``N(mu1, S1)`` and ``N(mu2, S2)``:
``d^2 = ||mu1 - mu2||^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^{1/2})``.

With Inception-v3 pool features this is the FID (Heusel et al. 2017). keras-latent ships no
Inception weights: :func:`frechet_distance_images` uses the penultimate features of the
project's small MNIST classifier by default, which makes it the **Fréchet classifier
distance (FCD)**, comparable only between runs that use the same classifier, and never to
published FIDs. Pass your own ``feature_model`` (such as an Inception network whose weights
you hold) to compute other variants.
"""

import warnings

import numpy as np
import scipy.linalg

from keras_latent.validation import check_images

SQRTM_EPS = 1e-6
SQRTM_RTOL = 1e-5  # relative error ||X X - A||_F / ||A||_F tolerated before the eps retry
IMAGINARY_TOL = 1e-3  # largest imaginary part (relative to the trace) dropped silently


def feature_statistics(features):
    """Mean (d,) and covariance (d, d) of ``features`` (n, ...) flattened to (n, d), float64.

    The covariance is the unbiased one (``n - 1`` in the denominator); ``n >= 2``.
    """
    features = np.asarray(features, dtype=np.float64)
    if features.ndim < 2:
        raise ValueError(f"features must have shape (n, d), got {features.shape}")
    features = features.reshape(len(features), -1)
    if len(features) < 2:
        raise ValueError(f"a covariance needs at least 2 feature vectors, got {len(features)}")
    if not np.all(np.isfinite(features)):
        raise ValueError("features contain NaN or infinite values")
    return features.mean(axis=0), np.cov(features, rowvar=False).reshape(
        features.shape[1], features.shape[1]
    )


def _check_statistics(mu, sigma, name):
    mu = np.atleast_1d(np.asarray(mu, dtype=np.float64))
    sigma = np.atleast_2d(np.asarray(sigma, dtype=np.float64))
    if mu.ndim != 1 or sigma.shape != (len(mu), len(mu)):
        raise ValueError(
            f"{name}: mean must have shape (d,) and covariance (d, d); got {mu.shape} and "
            f"{sigma.shape}"
        )
    if not (np.all(np.isfinite(mu)) and np.all(np.isfinite(sigma))):
        raise ValueError(f"{name}: statistics contain NaN or infinite values")
    if not np.allclose(sigma, sigma.T, rtol=1e-5, atol=1e-8 * max(1.0, np.abs(sigma).max())):
        raise ValueError(f"{name}: covariance is not symmetric")
    return mu, sigma


def trace_sqrt_product(sigma1, sigma2, eps=SQRTM_EPS):
    """``tr((S1 S2)^{1/2})`` by ``scipy.linalg.sqrtm``, robust to singular covariances.

    If the root is not finite or not accurate (``||X X - A|| > 1e-5 ||A||``), it is taken
    again of ``(S1 + eps I)(S2 + eps I)``, with ``eps`` scaled by the mean variance. Imaginary
    parts come from rounding (the eigenvalues of ``S1 S2`` are real and >= 0): those up to
    ``1e-3`` of the trace are dropped; larger ones raise ``ValueError``.
    """
    product = sigma1 @ sigma2
    root = _sqrtm(product)
    if root is None:
        scale = max(float(np.trace(sigma1) + np.trace(sigma2)) / (2 * len(sigma1)), 1.0)
        offset = eps * scale * np.eye(len(sigma1))
        root = _sqrtm((sigma1 + offset) @ (sigma2 + offset))
        if root is None:
            raise ValueError("the matrix square root of S1 S2 failed even with eps * I added")
        warnings.warn(
            f"Fréchet distance: no accurate square root of S1 S2 (singular covariances?); "
            f"added {eps * scale:g} I to both covariances",
            RuntimeWarning,
            stacklevel=3,
        )
    if np.iscomplexobj(root):
        imaginary = np.max(np.abs(np.diagonal(root).imag))
        if imaginary > IMAGINARY_TOL * max(1.0, abs(np.trace(root).real)):
            raise ValueError(
                f"matrix square root has an imaginary component {imaginary:g}: the covariances "
                "are not positive semi-definite"
            )
        root = root.real
    return float(np.trace(root))


def _sqrtm(a):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        root = scipy.linalg.sqrtm(a)
    if not np.all(np.isfinite(root)):
        return None
    norm = np.linalg.norm(a)
    if norm > 0 and np.linalg.norm(root @ root - a) > SQRTM_RTOL * norm:
        return None
    return root


def frechet_distance(mu1, sigma1, mu2, sigma2, eps=SQRTM_EPS):
    """Squared Fréchet distance between ``N(mu1, sigma1)`` and ``N(mu2, sigma2)`` (>= 0).

    ``||mu1 - mu2||^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^{1/2})``; rounding that makes it
    negative is clipped to 0. See :func:`trace_sqrt_product` for the matrix square root.
    """
    mu1, sigma1 = _check_statistics(mu1, sigma1, "first")
    mu2, sigma2 = _check_statistics(mu2, sigma2, "second")
    if len(mu1) != len(mu2):
        raise ValueError(f"feature sizes differ ({len(mu1)} != {len(mu2)})")
    difference = mu1 - mu2
    trace = np.trace(sigma1) + np.trace(sigma2) - 2 * trace_sqrt_product(sigma1, sigma2, eps)
    return max(float(difference @ difference + trace), 0.0)


def frechet_distance_images(x_real, x_fake, feature_model=None, batch_size=500):
    """Fréchet distance of ``feature_model``'s features of two image sets.

    Args:
        x_real, x_fake: images (n, H, W, C) as ``feature_model`` expects them (at least 2
            each; thousands for a stable estimate).
        feature_model: a Keras model (or any callable with ``predict``) mapping images to
            features. Default: the shipped MNIST classifier's penultimate features
            (:func:`keras_latent.metrics.classifiers.mnist_features`), images 32x32x1 in
            [-1, 1] (values up to 1.5 in size are clipped to it, as decoders overshoot):
            the Fréchet *classifier* distance (FCD) on MNIST, not an FID.
    """
    default = feature_model is None
    if default:
        from keras_latent.metrics.classifiers import mnist_features

        feature_model = mnist_features()
    stats = []
    for name, x in (("x_real", x_real), ("x_fake", x_fake)):
        if default:  # decoders overshoot [-1, 1] a little: clip, but refuse raw pixels
            x = check_images(np.clip(x, -1.0, 1.0) if _in_scale(x) else x, (32, 32, 1), name)
        x = np.asarray(x, dtype=np.float32)
        if x.ndim < 2 or len(x) < 2:
            raise ValueError(f"{name} must hold at least 2 images, got shape {x.shape}")
        if not np.all(np.isfinite(x)):
            raise ValueError(f"{name} contain NaN or infinite values")
        features = feature_model.predict(x, batch_size=batch_size, verbose=0)
        stats.append(feature_statistics(features))
    return frechet_distance(*stats[0], *stats[1])


def _in_scale(x):
    """Roughly in [-1, 1] (|x| <= 1.5), so clipping is safe; raw 0-255 pixels are not."""
    try:
        x = np.asarray(x, dtype=np.float32)
    except (TypeError, ValueError):
        return False
    return x.size > 0 and bool(np.all(np.abs(x) <= 1.5))
