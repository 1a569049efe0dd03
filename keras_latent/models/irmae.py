"""IRMAE: the implicit rank-minimizing autoencoder of Jing, Zbontar and LeCun
("Implicit Rank-Minimizing Autoencoder", NeurIPS 2020), on the ACAI architecture.

``l`` extra linear layers (square, bias-free matrices ``W_1 .. W_l``) between the encoder and
the decoder, trained on the plain reconstruction error ``mean((x - x_hat)^2)``: gradient descent
through a deep linear product implicitly lowers the rank of the latent covariance. The code is
the output of the linear layers, ``z = W_l ... W_1 flatten(encoder(x))`` (reshaped to the
spatial latent), which is what ``encode``, ``principal_components`` and the samplers see.

Our choices, from the official code (github.com/facebookresearch/irmae): ``l = 8`` (its MNIST
command), matrices initialised as PyTorch's ``nn.Linear`` default, uniform on
``[-1/sqrt(d), 1/sqrt(d)]``. The official MNIST model has a 128-value code and its own
convolutional networks; here the ACAI encoder and decoder and its ``d_z`` are kept.
"""

import keras

from keras_latent.models.base import Autoencoder

LINEAR_LAYERS = 8


def torch_linear_initializer():
    """PyTorch's ``nn.Linear`` default: uniform on ``[-1/sqrt(fan_in), 1/sqrt(fan_in)]``."""
    return keras.initializers.VarianceScaling(
        scale=1.0 / 3.0, mode="fan_in", distribution="uniform"
    )


@keras.saving.register_keras_serializable(package="keras_latent")
class IRMAE(Autoencoder):
    """IRMAE on the ACAI architecture (see ``Autoencoder`` for the shared arguments).

    Args:
        linear_layers: ``l >= 1``, the number of bias-free ``d_z x d_z`` matrices.
    """

    def __init__(self, *args, linear_layers=LINEAR_LAYERS, **kwargs):
        super().__init__(*args, **kwargs)
        if isinstance(linear_layers, bool) or not isinstance(linear_layers, int):
            raise TypeError(f"linear_layers must be an int, got {linear_layers!r}")
        if linear_layers < 1:
            raise ValueError(f"linear_layers must be >= 1, got {linear_layers}")
        self.linear_layers = linear_layers
        self.linear = self._build_linear()

    def _build_linear(self):
        inputs = keras.Input(self.latent_shape, name="linear_input")
        y = keras.layers.Reshape((self.latent_size,), name="linear_flatten")(inputs)
        for k in range(self.linear_layers):
            y = keras.layers.Dense(
                self.latent_size,
                use_bias=False,
                kernel_initializer=torch_linear_initializer(),
                name=f"linear_{k}",
            )(y)
        outputs = keras.layers.Reshape(self.latent_shape, name="linear_reshape")(y)
        return keras.Model(inputs, outputs, name="linear")

    def call(self, x, training=False):
        z = self.linear(self.encoder(x, training=training), training=training)
        return {"latent": z, "reconstruction": self.decoder(z, training=training)}

    def encode(self, x, batch_size=256, seed=None):
        """Images -> codes after the linear layers, ``(n, *latent_shape)`` (deterministic:
        ``seed`` is ignored)."""
        return self._map_batches(self.linear, super().encode(x, batch_size), batch_size)

    def encode_tensor(self, x, training=False):
        """The graph of :meth:`encode`: the encoder, then the linear layers."""
        return self.linear(self.encoder(x, training=training), training=training)

    def get_config(self):
        config = super().get_config()
        config.update(linear_layers=self.linear_layers)
        return config
