"""Latent samplers: fitted on the codes of training images, they draw new codes to decode.

- ``GaussianMixtureSampler``: a Gaussian mixture (scikit-learn's EM) on the flattened codes,
  the ex-post density estimate of regularised autoencoders (Ghosh et al. 2020, RAE; 10
  components in their code).
- ``PrincipalComponentSampler``: a Gaussian along the top principal components of the codes
  (``mean + sum_k sqrt(variance_k) * scale * eps_k * v_k``, ``eps ~ N(0, I)``), generation along
  the deep principal components of Li and Blair (2022).

Both: ``fit(latents)`` returns the sampler; ``sample(n, seed=None)`` returns
``(n, *latent_shape)`` float32 codes. Without ``seed`` a sampler draws from its own numpy
generator (seeded by the constructor's ``seed``), so successive calls give new codes and a
seeded sampler repeats its sequence; with ``seed`` the draw comes from a fresh
``np.random.default_rng(seed)`` (the same seed gives the same codes) and the sampler's own
stream is left where it was. ``state()`` and ``from_state`` turn a fitted sampler into a
JSON-able config plus numpy arrays and back; :func:`save_sampler` and :func:`load_sampler`
write them to and read them from a folder (``latent_sampler.json`` and ``latent_sampler.npz``):
that is how an autoencoder keeps its fitted sampler in a ``.keras`` file and a preset folder.
"""

import zipfile
from pathlib import Path

import numpy as np

from keras_latent.allocator import heap_allocations
from keras_latent.files import atomic_path, read_json, write_json
from keras_latent.principal_components import principal_components
from keras_latent.validation import check_latents

CONFIG_FILE = "latent_sampler.json"
"""The sampler's ``state()`` config (kind, latent shape, constructor arguments), as JSON."""
ARRAYS_FILE = "latent_sampler.npz"
"""The sampler's ``state()`` arrays, as an ``.npz`` file (read without pickle)."""

PRESET_RECIPE = {"kind": "gmm", "n_components": 10, "seed": 0}
"""The sampler the shipped presets carry and ``keras-latent sample --data-dir`` fits: a Gaussian
mixture of 10 components (as the RAE code), seed 0, on the codes of the training split (the
recipe of ``keras-latent evaluate``'s Fréchet classifier distance)."""


class LatentSampler:
    """Base of the samplers: fitting checks, the random generator, sampling and state."""

    kind = None

    def __init__(self, seed=None):
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise TypeError(f"seed must be an int or None, got {seed!r}")
        self.seed = seed
        self.latent_shape = None
        self.fitted_codes = None  # how many codes fit() saw
        self._rng = np.random.default_rng(seed)

    @property
    def fitted(self):
        return self.latent_shape is not None

    def fit(self, latents):
        """Fit on codes ``(n, ...)``; returns ``self``. ``fitted_codes`` records ``n``."""
        flat = check_latents(latents)
        self._fit(flat)
        self.latent_shape = tuple(int(v) for v in np.shape(latents)[1:])
        self.fitted_codes = len(flat)
        return self

    def sample(self, n, seed=None):
        """``n`` new codes ``(n, *latent_shape)``, float32.

        ``seed=None``: the next draws of the sampler's own generator. An int: the draws of a
        fresh ``np.random.default_rng(seed)`` (same seed, same codes), leaving the sampler's
        own generator untouched.
        """
        if not self.fitted:
            raise RuntimeError(f"{type(self).__name__} is not fitted: call fit(latents) first")
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"n must be a positive integer, got {n!r}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
            raise TypeError(f"seed must be an int or None, got {seed!r}")
        rng = self._rng if seed is None else np.random.default_rng(int(seed))
        flat = self._sample(int(n), rng)
        return flat.reshape((int(n), *self.latent_shape)).astype("float32")

    def get_config(self):
        return {"seed": self.seed}

    def state(self):
        """``(config, arrays)``: a JSON-able dict and a dict of numpy arrays."""
        if not self.fitted:
            raise RuntimeError(f"{type(self).__name__} is not fitted: nothing to save")
        config = dict(self.get_config(), kind=self.kind, latent_shape=list(self.latent_shape))
        if getattr(self, "fitted_codes", None) is not None:
            config["fitted_codes"] = int(self.fitted_codes)
        return config, self._arrays()

    @classmethod
    def from_state(cls, config, arrays):
        """Rebuild a fitted sampler from ``state()``'s output (any registered kind).

        Malformed state (an unknown kind, a bad latent shape, missing, non-finite or
        inconsistent arrays, a covariance that is not positive definite) is a ValueError.
        """
        if not isinstance(config, dict):
            raise ValueError(f"a sampler config must be a JSON object, got {type(config).__name__}")
        config = dict(config)
        kind = config.pop("kind", None)
        if kind not in SAMPLERS:
            raise ValueError(f"unknown sampler kind {kind!r}; known: {', '.join(SAMPLERS)}")
        latent_shape = config.pop("latent_shape", None)
        if not (
            isinstance(latent_shape, list)
            and latent_shape
            and all(type(v) is int and v > 0 for v in latent_shape)
        ):
            raise ValueError(f"latent_shape must be a list of positive ints, got {latent_shape!r}")
        fitted_codes = config.pop("fitted_codes", None)
        try:
            sampler = SAMPLERS[kind](**config)
        except TypeError as error:
            raise ValueError(f"bad {kind!r} sampler config {config}: {error}") from error
        arrays = {name: np.asarray(value) for name, value in arrays.items()}
        missing = [name for name in sampler._array_names if name not in arrays]
        if missing:
            raise ValueError(f"the {kind!r} sampler's arrays lack {', '.join(missing)}")
        for name in sampler._array_names:
            value = arrays[name]
            if not np.issubdtype(value.dtype, np.floating) or not np.isfinite(value).all():
                raise ValueError(f"the sampler's array {name!r} is not finite floating point")
        sampler.latent_shape = tuple(latent_shape)
        sampler._restore(arrays, int(np.prod(latent_shape)))
        sampler.fitted_codes = fitted_codes
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
    _array_names = ("weights", "means", "covariances")

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
        )
        with heap_allocations():  # EM's (n, d) temporaries: no page faults at every iteration
            mixture.fit(flat)
        self.weights = mixture.weights_
        self.means = mixture.means_
        self.covariances = _full_covariances(
            mixture.covariances_, self.covariance_type, self.n_components, flat.shape[1]
        )
        self._cholesky = np.linalg.cholesky(self.covariances)

    def _sample(self, n, rng):
        counts = rng.multinomial(n, self.weights / self.weights.sum())
        component = np.repeat(np.arange(self.n_components), counts)
        rng.shuffle(component)
        noise = rng.standard_normal((n, self.means.shape[1]))
        codes = np.empty_like(noise)
        for j in range(self.n_components):  # one product per component: no (n, d, d) gather
            rows = component == j
            codes[rows] = self.means[j] + noise[rows] @ self._cholesky[j].T
        return codes

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

    def _restore(self, arrays, d):
        k = self.n_components
        expected = {"weights": (k,), "means": (k, d), "covariances": (k, d, d)}
        for name, shape in expected.items():
            if arrays[name].shape != shape:
                raise ValueError(
                    f"the sampler's {name!r} has shape {arrays[name].shape}, expected {shape} "
                    f"({k} components, latent size {d})"
                )
        if (arrays["weights"] < 0).any() or not arrays["weights"].sum() > 0:
            raise ValueError("the sampler's mixture weights must be >= 0 with a positive sum")
        self.weights, self.means = arrays["weights"], arrays["means"]
        self.covariances = arrays["covariances"]
        try:
            self._cholesky = np.linalg.cholesky(self.covariances)
        except np.linalg.LinAlgError as error:
            raise ValueError(
                f"the sampler's covariances are not positive definite: {error}"
            ) from error


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
    _array_names = ("mean", "components", "variances")

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

    def _sample(self, n, rng):
        noise = rng.standard_normal((n, len(self.variances)))
        return self.mean + (noise * self.scale * np.sqrt(self.variances)) @ self.components

    def get_config(self):
        return dict(super().get_config(), n_components=self.n_components, scale=self.scale)

    def _arrays(self):
        return {"mean": self.mean, "components": self.components, "variances": self.variances}

    def _restore(self, arrays, d):
        k = len(np.atleast_1d(arrays["variances"]))
        if self.n_components is not None and k != self.n_components:
            raise ValueError(f"the sampler has {k} variances but n_components={self.n_components}")
        expected = {"mean": (d,), "components": (k, d), "variances": (k,)}
        for name, shape in expected.items():
            if arrays[name].shape != shape:
                raise ValueError(
                    f"the sampler's {name!r} has shape {arrays[name].shape}, expected {shape} "
                    f"({k} components, latent size {d})"
                )
        if (arrays["variances"] < 0).any():
            raise ValueError("the sampler's variances must be >= 0")
        self.mean, self.components = arrays["mean"], arrays["components"]
        self.variances = arrays["variances"]


SAMPLERS = {"gmm": GaussianMixtureSampler, "pca": PrincipalComponentSampler}


def make_sampler(kind="gmm", **kwargs):
    """A fresh sampler of ``kind`` ("gmm" or "pca") built with ``kwargs``."""
    if kind not in SAMPLERS:
        raise ValueError(f"kind must be one of {', '.join(map(repr, SAMPLERS))}, got {kind!r}")
    return SAMPLERS[kind](**kwargs)


def save_sampler(sampler, folder):
    """Write a fitted ``sampler`` into ``folder`` as :data:`CONFIG_FILE` (its ``state()``
    config) and :data:`ARRAYS_FILE` (its arrays), each atomically. Returns the two paths."""
    config, arrays = sampler.state()
    folder = Path(folder)
    arrays_path, config_path = folder / ARRAYS_FILE, folder / CONFIG_FILE
    with atomic_path(arrays_path) as tmp, open(tmp, "wb") as handle:
        np.savez(handle, **arrays)
    write_json(config_path, config)
    return config_path, arrays_path


def load_sampler(folder, latent_shape=None):
    """The sampler :func:`save_sampler` wrote into ``folder``, or None where ``folder`` holds
    neither of its files.

    ``latent_shape``: the model's; a sampler of codes of another shape is refused. A missing,
    unreadable or malformed file is a ValueError (FileNotFoundError for a missing one) naming
    the file.
    """
    folder = Path(folder)
    config_path, arrays_path = folder / CONFIG_FILE, folder / ARRAYS_FILE
    if not config_path.exists() and not arrays_path.exists():
        return None
    for path in (config_path, arrays_path):
        if not path.is_file():
            raise FileNotFoundError(
                f"{path} does not exist: a latent sampler needs both {CONFIG_FILE} and "
                f"{ARRAYS_FILE} (remove the other one, or refit the sampler)"
            )
    config = read_json(config_path)
    try:
        with np.load(arrays_path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise ValueError(f"{arrays_path} is not a readable .npz file: {error}") from error
    try:
        sampler = LatentSampler.from_state(config, arrays)
    except ValueError as error:
        raise ValueError(f"{config_path} and {arrays_path}: {error}") from error
    if latent_shape is not None and sampler.latent_shape != tuple(latent_shape):
        raise ValueError(
            f"{config_path}: the latent sampler draws codes of shape {sampler.latent_shape} but "
            f"the model's latent has shape {tuple(latent_shape)}: a sampler of another model"
        )
    return sampler


def describe(sampler):
    """One line: ``"Gaussian mixture (10 components, seed 0)"``."""
    seed = "" if sampler.seed is None else f", seed {sampler.seed}"
    if sampler.kind == "gmm":
        return f"Gaussian mixture ({sampler.n_components} components{seed})"
    k = "all" if sampler.n_components is None else sampler.n_components
    return f"principal-component Gaussian ({k} components, scale {sampler.scale:g}{seed})"


def _full_covariances(covariances, covariance_type, k, d):
    """scikit-learn's covariances of any type as ``(k, d, d)`` matrices."""
    if covariance_type == "full":
        return covariances
    if covariance_type == "tied":
        return np.broadcast_to(covariances, (k, d, d)).copy()
    if covariance_type == "diag":
        return np.stack([np.diag(c) for c in covariances])
    return np.stack([np.eye(d) * c for c in covariances])
