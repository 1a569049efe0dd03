"""Denoising autoencoder: the ACAI paper's baseline trained to remove Gaussian input noise.

In training, ``x_noisy = x + noise_std * eps``, ``eps ~ N(0, I)``, ``noise_std = 1.0``, and the
loss is ``mean((x - decode(encode(x_noisy)))^2)``: the reconstruction of the noisy input is
compared with the clean image. As in the official code (``denoising.py``), the noisy input is
**not clipped** to [-1, 1]. At inference (``training=False``) no noise is added, so
``encode``/``reconstruct``/``interpolate`` are deterministic. With a linear probe
(``num_classes``) the clean image is also encoded in training and the probe sees that clean
code, as in the official code; without one, only the noisy image is encoded.
"""

import keras

from keras_latent import distribute
from keras_latent.models import checks
from keras_latent.models.base import Autoencoder

NOISE_STD = 1.0


@keras.saving.register_keras_serializable(package="keras_latent")
class DenoisingAutoencoder(Autoencoder):
    """Autoencoder trained on noisy inputs (see ``Autoencoder`` for the shared arguments).

    Args:
        noise_std: standard deviation of the Gaussian noise added to the inputs in training
            (>= 0; 0 is the plain autoencoder).
    """

    def __init__(self, *args, noise_std=NOISE_STD, **kwargs):
        noise_std = checks.real("noise_std", noise_std, low=0.0)
        super().__init__(*args, **kwargs)
        self.noise_std = noise_std

    def call(self, x, training=False):
        if not training or self.noise_std == 0.0:
            return super().call(x, training=training)
        noise = distribute.replica_normal(keras.ops.shape(x), self.seed_generator, dtype=x.dtype)
        z_noisy = self.encoder(x + self.noise_std * noise, training=training)
        x_hat = self.decoder(z_noisy, training=training)
        z = z_noisy if self.probe is None else self.encoder(x, training=training)
        return {"latent": z, "reconstruction": x_hat}

    def get_config(self):
        return {**super().get_config(), "noise_std": self.noise_std}
