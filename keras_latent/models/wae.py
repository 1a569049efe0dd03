"""Wasserstein autoencoder with the MMD penalty (WAE-MMD, Tolstikhin et al., ICLR 2018).

A deterministic autoencoder whose codes are pulled towards the prior ``N(0, sigma^2 I)`` on the
flattened latent by the maximum mean discrepancy between a batch of codes ``z`` and as many
prior draws ``p``, with the inverse multiquadric kernel ``k_C(a, b) = C / (C + ||a - b||^2)``,
``C = 2 * d_z * sigma^2 * s``, summed over the scales ``s`` in (0.1, 0.2, 0.5, 1, 2, 5, 10) as in
the paper's official code (``scales=(1.0,)`` gives the single-scale form of the paper's text).
The unbiased estimate, for a batch of ``n``:

``MMD = sum_s [ sum_{i != j} (k(z_i, z_j) + k(p_i, p_j)) / (n (n - 1))
                - 2 sum_{i, j} k(z_i, p_j) / n^2 ]``

(a batch of one has no pairs: the first sum is then 0 and the estimate meaningless, though
finite). The paper minimises ``||x - x_hat||^2 + lambda * MMD`` with the squared error summed over
the ``D = H * W * C`` pixels (lambda = 10 on MNIST, 100 on CelebA); to log the same per-pixel
reconstruction error as every other model here, this divides that objective by ``D``:

``loss = mean((x - x_hat)^2) + (lambda / D) * MMD``, ``lambda = 10`` by default.

Not one of the ACAI paper's baselines; a common reference point. ``sample(n)`` decodes prior
draws.
"""

import keras
from keras import ops

from keras_latent import distribute
from keras_latent.models import checks
from keras_latent.models.base import Autoencoder
from keras_latent.models.prior import sample_prior

MMD_WEIGHT = 10.0  # lambda, the paper's MNIST value (with the summed squared error)
KERNEL_SCALES = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)
PRIOR_STD = 1.0


def squared_distances(a, b):
    """``||a_i - b_j||^2`` for rows of ``a`` (n, d) and ``b`` (m, d): shape (n, m), >= 0."""
    norms_a = ops.sum(ops.square(a), axis=1, keepdims=True)
    norms_b = ops.sum(ops.square(b), axis=1, keepdims=True)
    return ops.relu(norms_a + ops.transpose(norms_b) - 2.0 * ops.matmul(a, ops.transpose(b)))


def imq_mmd(z, p, base_scale, scales=KERNEL_SCALES):
    """Unbiased MMD between samples ``z`` and ``p`` (both (n, d)) with the inverse multiquadric
    kernel ``C / (C + ||a - b||^2)``, ``C = base_scale * s``, summed over ``scales``."""
    n = ops.shape(z)[0]
    n_float = ops.cast(n, z.dtype)
    off_diagonal = 1.0 - ops.eye(n, dtype=z.dtype)
    pairs = ops.maximum(n_float * (n_float - 1.0), 1.0)
    d_zz, d_pp, d_zp = squared_distances(z, z), squared_distances(p, p), squared_distances(z, p)
    total = 0.0
    for s in scales:
        c = base_scale * s
        within = (c / (c + d_zz) + c / (c + d_pp)) * off_diagonal
        total = total + ops.sum(within) / pairs - 2.0 * ops.sum(c / (c + d_zp)) / n_float**2
    return total


@keras.saving.register_keras_serializable(package="keras_latent")
class WAE(Autoencoder):
    """WAE-MMD (see ``Autoencoder`` for the shared arguments).

    Args:
        mmd_weight: lambda (>= 0), weight of the MMD against the summed squared error.
        kernel_scales: multipliers ``s`` of ``C = 2 d_z sigma^2`` summed over (all > 0).
        prior_std: ``sigma`` of the prior ``N(0, sigma^2 I)`` (> 0).
    """

    loss_names = ("reconstruction", "mmd")
    samples_from_prior = True  # sample() draws from the prior, no fitted sampler

    def __init__(
        self,
        *args,
        mmd_weight=MMD_WEIGHT,
        kernel_scales=KERNEL_SCALES,
        prior_std=PRIOR_STD,
        **kwargs,
    ):
        mmd_weight = checks.real("mmd_weight", mmd_weight, low=0.0)
        kernel_scales = checks.reals("kernel_scales", kernel_scales, low=0.0, low_open=True)
        prior_std = checks.real("prior_std", prior_std, low=0.0, low_open=True)
        super().__init__(*args, **kwargs)
        self.mmd_weight = mmd_weight
        self.kernel_scales = kernel_scales
        self.prior_std = prior_std

    def loss_terms(self, x, outputs, training):
        z = ops.reshape(outputs["latent"], (-1, self.latent_size))
        p = self.prior_std * distribute.replica_normal(ops.shape(z), self.seed_generator)
        base_scale = 2.0 * self.latent_size * self.prior_std**2
        mmd = imq_mmd(z, p, base_scale, self.kernel_scales)
        reconstruction = ops.mean(ops.square(x - outputs["reconstruction"]))
        pixels = self.image_shape[0] * self.image_shape[1] * self.image_shape[2]
        total = reconstruction + (self.mmd_weight / pixels) * mmd
        return total, {"reconstruction": reconstruction, "mmd": mmd}

    def sample(self, n, seed=None, batch_size=256):
        """``n`` images decoded from ``z ~ N(0, prior_std^2 I)``; an int ``seed`` repeats
        its draw (see ``models.prior.sample_prior``)."""
        return sample_prior(self, n, seed=seed, std=self.prior_std, batch_size=batch_size)

    def get_config(self):
        return {
            **super().get_config(),
            "mmd_weight": self.mmd_weight,
            "kernel_scales": list(self.kernel_scales),
            "prior_std": self.prior_std,
        }
