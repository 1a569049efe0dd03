"""Dropout autoencoder: the ACAI paper's baseline with dropout on the latent code.

In training the decoder sees ``z * m / p``, ``m ~ Bernoulli(p)`` element-wise over the whole
spatial latent, keep probability ``p = 0.5`` (the official ``tf.nn.dropout`` on the flattened
code, which scales kept values by ``1/p``); the loss is ``mean((x - decode(z * m / p))^2)``.
At inference (``training=False``: ``encode``, ``decode``, ``reconstruct``, ``interpolate``)
the code is used whole. The linear probe sees the code before dropout, as in the official code.
"""

import keras

from keras_latent import distribute
from keras_latent.models import checks
from keras_latent.models.base import Autoencoder

KEEP_PROBABILITY = 0.5


@keras.saving.register_keras_serializable(package="keras_latent")
class DropoutAutoencoder(Autoencoder):
    """Autoencoder with dropout on the latent (see ``Autoencoder`` for the shared arguments).

    Args:
        keep_probability: probability of keeping each latent element in training, in (0, 1];
            1 is the plain autoencoder.
    """

    def __init__(self, *args, keep_probability=KEEP_PROBABILITY, **kwargs):
        keep_probability = checks.real(
            "keep_probability", keep_probability, low=0.0, high=1.0, low_open=True
        )
        super().__init__(*args, **kwargs)
        self.keep_probability = keep_probability

    def call(self, x, training=False):
        z = self.encoder(x, training=training)
        z_train = z
        if training and self.keep_probability < 1.0:
            u = distribute.replica_uniform(keras.ops.shape(z), self.seed_generator)
            z_train = keras.ops.where(
                u < self.keep_probability, z / self.keep_probability, keras.ops.zeros_like(z)
            )
        return {"latent": z, "reconstruction": self.decoder(z_train, training=training)}

    def get_config(self):
        return {**super().get_config(), "keep_probability": self.keep_probability}
