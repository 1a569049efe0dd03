"""Eccentric autoencoder (Li and Blair, "Eccentric Regularization: Minimizing Hyperspherical
Energy without explicit projection", IJCNN 2022, arXiv 2104.11610).

The ACAI encoder and decoder with the eccentric regularizer on the (flattened) latent codes of
each batch:

``loss = mean((x - x_hat)^2) + eccentric_weight * eccentric_loss(z, power, attraction)``

with ``eccentric_loss(z) = mean_{i != j} phi(||z_i - z_j||) + (attraction / 2) mean_i ||z_i||^2``
(see ``keras_latent.losses``). Minimised alone the regularizer spreads the codes on a
hypersphere; as a regularizer, the paper reports that lowering its weight tolerates a more
eccentric latent distribution, so that the latent covariance's principal components stratify
by importance (``principal_components``) and serve generation (``fit_sampler(x, "pca")``
or ``"gmm"``, then ``sample``).

What is the paper's and what is ours: the paper's abstract fixes the structure (pairwise
repulsion, attraction of each item to the origin, a scaling factor whose reduction increases
eccentricity, an image autoencoder). Its kernel, weight and architecture could not be checked
here, so these are our choices: the Coulomb kernel ``power = 1`` (docs/papers.md's default),
``attraction = 1``, ``eccentric_weight = 0.1`` (chosen on MNIST with d_z = 256 so the
regularizer is neither negligible nor dominant against the per-pixel reconstruction MSE; see
the tests and ``benchmarks/eccentric_mnist.py``), the ACAI architecture and Adam(1e-4).
"""

import keras

from keras_latent import losses
from keras_latent.models.base import Autoencoder

ECCENTRIC_WEIGHT = 0.1
POWER = 1.0
ATTRACTION = 1.0


@keras.saving.register_keras_serializable(package="keras_latent")
class EccentricAutoencoder(Autoencoder):
    """The ACAI autoencoder with eccentric regularization of its latent codes.

    Args (besides ``Autoencoder``'s):
        eccentric_weight: ``>= 0``, factor of the regularizer (lower: more eccentric codes).
        power: ``s >= 0``, exponent of the repulsion kernel (0: logarithmic).
        attraction: ``> 0``, strength of the pull toward the origin.
        chunk_size: rows per block of the pairwise computation (see ``eccentric_loss``).

    Logs ``reconstruction`` and ``eccentric`` (the unweighted regularizer); ``loss`` is
    ``reconstruction + eccentric_weight * eccentric``. The regularizer is a batch statistic:
    its value depends on the batch (a batch of one has no pairs).
    """

    loss_names = ("reconstruction", "eccentric")

    def __init__(
        self,
        *args,
        eccentric_weight=ECCENTRIC_WEIGHT,
        power=POWER,
        attraction=ATTRACTION,
        chunk_size=losses.DEFAULT_CHUNK_SIZE,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.eccentric_weight = losses.check_weight(eccentric_weight, "eccentric_weight")
        self.power, self.attraction = losses.check_eccentric_arguments(power, attraction)
        self.chunk_size = losses.check_chunk_size(chunk_size)

    def loss_terms(self, x, outputs, training):
        total, terms = super().loss_terms(x, outputs, training)
        eccentric = losses.eccentric_loss(
            outputs["latent"], self.power, self.attraction, self.chunk_size
        )
        return total + self.eccentric_weight * eccentric, dict(terms, eccentric=eccentric)

    def get_config(self):
        config = super().get_config()
        config.update(
            eccentric_weight=self.eccentric_weight,
            power=self.power,
            attraction=self.attraction,
            chunk_size=self.chunk_size,
        )
        return config
