"""RAE-L2: the regularised (deterministic) autoencoder of Ghosh, Sajjadi, Vergari, Black and
Schoelkopf, "From Variational to Deterministic Autoencoders" (ICLR 2020), on the ACAI
architecture.

``loss = mean((x - x_hat)^2) + beta * latent + decay * sum ||W||^2``

- ``latent = mean_i ||z_i||^2 / (2 d_z)``: the paper's ``||z||^2 / 2`` per latent dimension,
  so that, like the per-pixel reconstruction error, it does not grow with the layer's size
  (the official code averages both: ``mean(z^2)`` and the per-pixel squared error);
- ``sum ||W||^2`` runs over the decoder's convolution kernels (not biases): weight decay on the
  decoder only, the paper's ``L_REG`` of RAE-L2.

Constants from the official code's MNIST RAE-L2 configuration (github.com/ParthaEth/
Regularized_autoencoders-RAE-, ``configurations/config.py``): latent weight ``1e-4`` on
``mean(z^2)``, i.e. ``beta = 2e-4`` here, and ``decay = 1e-7`` (its Keras L2 regulariser
weight on the decoder). Generation samples a Gaussian mixture fitted ex post on the training
codes (10 components in that code): ``model.fit_sampler(x_train)`` then ``model.sample(n)``.
"""

import keras
from keras import ops

from keras_latent import losses
from keras_latent.models.base import Autoencoder

BETA = 2e-4
DECODER_DECAY = 1e-7


@keras.saving.register_keras_serializable(package="keras_latent")
class RAE(Autoencoder):
    """RAE-L2 on the ACAI architecture (see ``Autoencoder`` for the shared arguments).

    Args:
        beta: ``>= 0``, weight of ``mean_i ||z_i||^2 / (2 d_z)``.
        decoder_decay: ``>= 0``, weight of the decoder kernels' squared L2 norm.

    Logs ``reconstruction``, ``latent`` and ``decay`` (unweighted terms).
    """

    loss_names = ("reconstruction", "latent", "decay")

    def __init__(self, *args, beta=BETA, decoder_decay=DECODER_DECAY, **kwargs):
        super().__init__(*args, **kwargs)
        self.beta = losses.check_weight(beta, "beta")
        self.decoder_decay = losses.check_weight(decoder_decay, "decoder_decay")

    def decoder_kernels(self):
        """The decoder's convolution kernels (the weights that ``decoder_decay`` shrinks)."""
        return [v for v in self.decoder.trainable_weights if v.path.endswith("kernel")]

    def loss_terms(self, x, outputs, training):
        total, terms = super().loss_terms(x, outputs, training)
        latent = 0.5 * ops.mean(ops.square(outputs["latent"]))
        decay = sum(ops.sum(ops.square(kernel)) for kernel in self.decoder_kernels())
        total = total + self.beta * latent + self.decoder_decay * decay
        return total, dict(terms, latent=latent, decay=decay)

    def get_config(self):
        config = super().get_config()
        config.update(beta=self.beta, decoder_decay=self.decoder_decay)
        return config
