"""Principal components of latent codes: the eigen-decomposition of their covariance.

Li and Blair (2022) read the eigenvectors of the latent covariance of an eccentrically
regularised autoencoder as *deep principal components*, ordered by variance, for analysis,
visualisation and generation along them. ``principal_components`` computes them for any codes
(``Autoencoder.principal_components(x)`` encodes images first).
"""

import dataclasses

import numpy as np

from keras_latent.validation import check_latents

# Variances below (max(n, d) * float32 epsilon)^2 times the largest one are numerically zero
# for codes computed in float32 (numpy's matrix_rank tolerance, on singular values, squared).
FLOAT32_EPSILON = float(np.finfo("float32").eps)


@dataclasses.dataclass(frozen=True, eq=False)
class PrincipalComponents:
    """The latent covariance ``C = V diag(variances) V^T`` of ``n`` codes of shape ``latent_shape``.

    Attributes:
        mean: ``(d,)`` mean code (flattened).
        components: ``(d, d)`` unit eigenvectors of ``C`` as rows, by decreasing variance; each
            signed so that its largest-magnitude entry is positive.
        variances: ``(d,)`` eigenvalues of ``C`` (the unbiased covariance), decreasing.
        latent_shape: shape of one code.
        rank: numerical rank of ``C`` (variances above the float32 tolerance).
    """

    mean: np.ndarray
    components: np.ndarray
    variances: np.ndarray
    latent_shape: tuple
    rank: int

    @property
    def eccentricity(self):
        """``variances[0] / variances[-1]``: 1 for an isotropic code, infinite if rank-deficient."""
        if self.variances[-1] <= 0:
            return float("inf")
        return float(self.variances[0] / self.variances[-1])

    @property
    def effective_dimension(self):
        """Participation ratio ``(sum variances)^2 / sum variances^2``: from 1 (one direction
        holds all the variance) to ``d`` (isotropic). Unlike ``eccentricity`` it does not hinge
        on the single least-used direction."""
        return float(self.variances.sum() ** 2 / np.sum(self.variances**2))

    @property
    def explained_variance_ratio(self):
        """Each component's share of the total variance."""
        return self.variances / self.variances.sum()

    def project(self, z, k=None):
        """Codes ``(n, ...)`` -> coordinates ``(n, k)`` on the top ``k`` components (all: None)."""
        flat = check_latents(z)
        if flat.shape[1] != self.mean.size:
            raise ValueError(
                f"codes have {flat.shape[1]} values each; these components are of "
                f"{self.mean.size}-value codes {self.latent_shape}"
            )
        return (flat - self.mean) @ self.components[: self._check_k(k)].T

    def latents(self, coordinates):
        """Coordinates ``(n, k)`` on the top ``k`` components -> codes ``(n, *latent_shape)``."""
        coordinates = np.asarray(coordinates, dtype="float64")
        if coordinates.ndim != 2:
            raise ValueError(f"coordinates must have shape (n, k), got {coordinates.shape}")
        k = self._check_k(coordinates.shape[1])
        flat = self.mean + coordinates @ self.components[:k]
        return flat.reshape((-1, *self.latent_shape)).astype("float32")

    def traverse(self, component, steps=9, extent=2.0):
        """Codes along one component: ``mean + t sqrt(variance) v``, ``t`` from -extent to extent.

        Returns ``(steps, *latent_shape)``; ``component`` 0 is the one of largest variance.
        """
        if not 0 <= int(component) < len(self.variances):
            raise ValueError(f"component must lie in [0, {len(self.variances)}), got {component!r}")
        if int(steps) < 1 or not np.isfinite(extent) or extent < 0:
            raise ValueError(f"need steps >= 1 and a finite extent >= 0, got {steps}, {extent}")
        t = np.linspace(-extent, extent, int(steps)) * np.sqrt(self.variances[int(component)])
        coordinates = np.zeros((int(steps), int(component) + 1))
        coordinates[:, int(component)] = t
        return self.latents(coordinates)

    def _check_k(self, k):
        if k is None:
            return len(self.variances)
        if not 1 <= int(k) <= len(self.variances):
            raise ValueError(f"k must lie in [1, {len(self.variances)}], got {k!r}")
        return int(k)


def principal_components(latents, allow_singular=False):
    """Eigen-decomposition of the covariance of ``latents`` (``(n, ...)``, flattened per code).

    A rank-deficient covariance is refused unless ``allow_singular=True``: fewer codes than
    ``d + 1``, or a numerical rank below ``d`` (variances under ``(max(n, d) * eps32)^2`` times
    the largest, with ``eps32`` the float32 machine epsilon). With ``allow_singular=True`` the
    zero-variance directions are kept, with variance 0 (``eccentricity`` is then infinite).
    Computed in float64.
    """
    latent_shape = tuple(np.shape(latents)[1:])
    flat = check_latents(latents)
    n, d = flat.shape
    if n < 2:
        raise ValueError(f"need at least 2 codes for a covariance, got {n}")
    if n <= d and not allow_singular:
        raise ValueError(
            f"the covariance of {n} codes of {d} values has rank at most {n - 1} < {d}: use at "
            f"least {d + 1} codes, or pass allow_singular=True to keep zero-variance components"
        )
    mean = flat.mean(axis=0)
    centred = flat - mean
    variances, vectors = np.linalg.eigh(centred.T @ centred / (n - 1))
    variances, vectors = np.clip(variances[::-1], 0.0, None), vectors[:, ::-1].T
    if variances[0] <= 0:
        raise ValueError(f"all {n} codes are identical: their covariance is zero")
    tolerance = (max(n, d) * FLOAT32_EPSILON) ** 2 * variances[0]
    rank = int(np.sum(variances > tolerance))
    if rank < d and not allow_singular:
        raise ValueError(
            f"the latent covariance is rank-deficient: numerical rank {rank} of {d} (smallest "
            f"variance {variances[-1]:.3g}, largest {variances[0]:.3g}); pass "
            "allow_singular=True to keep the zero-variance components"
        )
    signs = np.sign(vectors[np.arange(d), np.abs(vectors).argmax(axis=1)])
    return PrincipalComponents(
        mean=mean,
        components=vectors * signs[:, None],
        variances=variances,
        latent_shape=latent_shape,
        rank=rank,
    )
