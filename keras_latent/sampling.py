"""Latent samplers: fitted on the codes of training images, they draw new codes to decode.

- ``GaussianMixtureSampler``: a Gaussian mixture (scikit-learn's EM) on the flattened codes,
  the ex-post density estimate of regularised autoencoders (Ghosh et al. 2020, RAE; 10
  components in their code).
- ``PrincipalComponentSampler``: a Gaussian along the top principal components of the codes
  (``mean + sum_k sqrt(variance_k) * scale * eps_k * v_k``, ``eps ~ N(0, I)``), generation along
  the deep principal components of Li and Blair (2022).

Both: ``fit(latents)`` returns the sampler; ``sample(n)`` returns ``(n, *latent_shape)``
float32 codes. Each sampler draws from its own numpy generator (``seed``), so successive calls
give new codes and a seeded sampler repeats its sequence. ``state()`` and ``from_state`` turn a
fitted sampler into a JSON-able config plus numpy arrays and back: that is how an autoencoder
keeps its fitted sampler in a ``.keras`` file.
"""

import numpy as np

from keras_latent.principal_components import principal_components
from keras_latent.validation import check_latents


class LatentSampler:
    """Base of the samplers: fitting checks, the random generator, sampling and state."""

    kind = None

    def __init__(self, seed=None):
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise TypeError(f"seed must be an int or None, got {seed!r}")
        self.seed = seed
        self.latent_shape = None
        self._rng = np.random.default_rng(seed)

    @property
    def fitted(self):
        return self.latent_shape is not None

    def fit(self, latents):
        """Fit on codes ``(n, ...)``; returns ``self``."""
        flat = check_latents(latents)
        self._fit(flat)
        self.latent_shape = tuple(int(v) for v in np.shape(latents)[1:])
        return self

    def sample(self, n):
        """``n`` new codes ``(n, *latent_shape)``, float32."""
        if not self.fitted:
            raise RuntimeError(f"{type(self).__name__} is not fitted: call fit(latents) first")
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"n must be a positive integer, got {n!r}")
        flat = self._sample(int(n))
        return flat.reshape((int(n), *self.latent_shape)).astype("float32")

    def get_config(self):
        return {"seed": self.seed}

    def state(self):
        """``(config, arrays)``: a JSON-able dict and a dict of numpy arrays."""
        if not self.fitted:
            raise RuntimeError(f"{type(self).__name__} is not fitted: nothing to save")
        config = dict(self.get_config(), kind=self.kind, latent_shape=list(self.latent_shape))
        return config, self._arrays()

    @classmethod
    def from_state(cls, config, arrays):
        """Rebuild a fitted sampler from ``state()``'s output (any registered kind)."""
        config = dict(config)
        kind = config.pop("kind", None)
        if kind not in SAMPLERS:
            raise ValueError(f"unknown sampler kind {kind!r}; known: {', '.join(SAMPLERS)}")
        latent_shape = tuple(config.pop("latent_shape"))
        sampler = SAMPLERS[kind](**config)
        sampler._restore({name: np.asarray(value) for name, value in arrays.items()})
        sampler.latent_shape = latent_shape
        return sampler


class GaussianMixtureSampler(LatentSampler):
    """Gaussian mixture on the flattened codes (``sklearn.mixture.GaussianMixture``).

    Args:
        n_components: mixture components (10 as in the RAE code; at most the number of codes).
        covariance_type: "full", "tied", "diag" or "spherical" (scikit-learn's meaning).
        reg_covar: added to the covariances' diagonals (keeps them positive definite).
        max_iter: EM iterations.
        seed: seeds both the EM initialisation and the sampling.
    """

    kind = "gmm"

    def __init__(
        self, n_components=10, covariance_type="full", reg_covar=1e-6, max_iter=100, seed=None
    ):
        super().__init__(seed)
        if isinstance(n_components, bool) or not isinstance(n_components, int):
            raise TypeError(f"n_components must be an int, got {n_components!r}")
        if n_components < 1:
            raise ValueError(f"n_components must be >= 1, got {n_components}")
        if covariance_type not in ("full", "tied", "diag", "spherical"):
            raise ValueError(
                "covariance_type must be 'full', 'tied', 'diag' or 'spherical', got "
                f"{covariance_type!r}"
            )
        if not reg_covar >= 0:
            raise ValueError(f"reg_covar must be >= 0, got {reg_covar!r}")
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.reg_covar = float(reg_covar)
        self.max_iter = int(max_iter)

    def _fit(self, flat):
        from sklearn.mixture import GaussianMixture

        if len(flat) < self.n_components:
            raise ValueError(
                f"a mixture of {self.n_components} components needs at least "
                f"{self.n_components} codes to fit; got {len(flat)}"
            )
        mixture = GaussianMixture(
            n_components=self.n_components,
            covariance_type=self.covariance_type,
            reg_covar=self.reg_covar,
            max_iter=self.max_iter,
            random_state=self.seed,
        ).fit(flat)
        self.weights = mixture.weights_
        self.means = mixture.means_
        self.covariances = _full_covariances(
            mixture.covariances_, self.covariance_type, self.n_components, flat.shape[1]
        )
        self._cholesky = np.linalg.cholesky(self.covariances)

    def _sample(self, n):
        counts = self._rng.multinomial(n, self.weights / self.weights.sum())
        component = np.repeat(np.arange(self.n_components), counts)
        self._rng.shuffle(component)
        noise = self._rng.standard_normal((n, self.means.shape[1]))
        return self.means[component] + np.einsum("nij,nj->ni", self._cholesky[component], noise)

    def get_config(self):
        return dict(
            super().get_config(),
            n_components=self.n_components,
            covariance_type=self.covariance_type,
            reg_covar=self.reg_covar,
            max_iter=self.max_iter,
        )

    def _arrays(self):
        return {"weights": self.weights, "means": self.means, "covariances": self.covariances}

    def _restore(self, arrays):
        self.weights, self.means = arrays["weights"], arrays["means"]
        self.covariances = arrays["covariances"]
        self._cholesky = np.linalg.cholesky(self.covariances)


class PrincipalComponentSampler(LatentSampler):
    """Gaussian along the top principal components of the codes.

    ``z = mean + sum_{k < K} scale * sqrt(variance_k) * eps_k * v_k``, ``eps ~ N(0, I)``: the
    codes' own covariance restricted to its ``K`` largest components (all if None).
    Zero-variance directions are allowed (they contribute nothing).

    Args:
        n_components: ``K``; None: every component.
        scale: multiplies the standard deviations (``< 1`` trades diversity for fidelity).
        seed: seeds the sampling.
    """

    kind = "pca"

    def __init__(self, n_components=None, scale=1.0, seed=None):
        super().__init__(seed)
        if n_components is not None:
            if isinstance(n_components, bool) or not isinstance(n_components, int):
                raise TypeError(f"n_components must be an int or None, got {n_components!r}")
            if n_components < 1:
                raise ValueError(f"n_components must be >= 1, got {n_components}")
        if not (np.isfinite(scale) and scale > 0):
            raise ValueError(f"scale must be a finite number > 0, got {scale!r}")
        self.n_components = n_components
        self.scale = float(scale)

    def _fit(self, flat):
        pcs = principal_components(flat, allow_singular=True)
        k = len(pcs.variances) if self.n_components is None else self.n_components
        if k > len(pcs.variances):
            raise ValueError(
                f"n_components {k} exceeds the {len(pcs.variances)} dimensions of the codes"
            )
        self.mean = pcs.mean
        self.components = pcs.components[:k]
        self.variances = pcs.variances[:k]

    def _sample(self, n):
        noise = self._rng.standard_normal((n, len(self.variances)))
        return self.mean + (noise * self.scale * np.sqrt(self.variances)) @ self.components

    def get_config(self):
        return dict(super().get_config(), n_components=self.n_components, scale=self.scale)

    def _arrays(self):
        return {"mean": self.mean, "components": self.components, "variances": self.variances}

    def _restore(self, arrays):
        self.mean, self.components = arrays["mean"], arrays["components"]
        self.variances = arrays["variances"]


SAMPLERS = {"gmm": GaussianMixtureSampler, "pca": PrincipalComponentSampler}


def make_sampler(kind="gmm", **kwargs):
    """A fresh sampler of ``kind`` ("gmm" or "pca") built with ``kwargs``."""
    if kind not in SAMPLERS:
        raise ValueError(f"kind must be one of {', '.join(map(repr, SAMPLERS))}, got {kind!r}")
    return SAMPLERS[kind](**kwargs)


def _full_covariances(covariances, covariance_type, k, d):
    """scikit-learn's covariances of any type as ``(k, d, d)`` matrices."""
    if covariance_type == "full":
        return covariances
    if covariance_type == "tied":
        return np.broadcast_to(covariances, (k, d, d)).copy()
    if covariance_type == "diag":
        return np.stack([np.diag(c) for c in covariances])
    return np.stack([np.eye(d) * c for c in covariances])
