"""VQ-VAE with an EMA codebook, as the ACAI paper's baseline (official ``vqvae.py`` and
``lib/discretization.py``).

The official bottleneck, between the ACAI encoder and decoder:

1. the encoder's output ``h`` is flattened (``d_z`` values) and a dense layer maps it to
   ``num_latents = 10`` vectors ``e_1..e_10`` of ``d_z`` values each;
2. each ``e_i`` is replaced by its nearest codebook entry ``q_i`` (squared Euclidean distance;
   ``K = 2^14`` entries of ``d_z`` values), with the straight-through estimator
   ``e + stop_gradient(q - e)``: the forward pass uses ``q``, gradients pass to ``e``;
3. ``dense(relu(dense(relu(concat_i(q_i)), 512)), d_z)`` is reshaped to the spatial latent and
   decoded.

Loss: ``mean((x - x_hat)^2) + beta * mean((e - stop_gradient(q))^2)``, commitment
``beta = 10``. The codebook has no gradient: it moves only by exponential moving averages
(decay ``gamma = 0.999``, ``eps = 1e-5``), updated in every training forward pass from the
batch's assignments, as Keras' BatchNormalization updates its moving statistics
(non-trainable variables assigned in ``call(training=True)``; Keras carries the assignment
through its train step on every backend):

- ``N_k <- gamma N_k + (1 - gamma) n_k``, ``n_k`` = vectors assigned to entry k in the batch;
- ``S_k <- gamma S_k + (1 - gamma) sum_{e assigned to k} e``;
- ``codebook_k = S_k / N'_k``, with ``N'_k = (N_k + eps) / (n + K eps) * n``,
  ``n = sum_k N_k`` (Laplace smoothing; no bias correction, as the official code).

``N`` starts at 0 and ``S`` at the codebook's initial value (uniform in
``+-sqrt(3 / K)``, TF1's ``uniform_unit_scaling``). Entries not chosen in the first steps grow
as ``S_k / N'_k`` with ``N'_k`` near 0, and are then never chosen again: the official code's
behaviour, kept. ``perplexity = exp(-sum_k p_k log p_k)`` of the batch's code frequencies is
logged (not minimised): the effective number of entries in use.

Interpolation follows the official code: ``encode`` returns the continuous encoder output
``h`` (before the dense layer and the quantisation), and ``decode`` runs the whole bottleneck
(quantisation included) then the decoder. The linear probe also sees ``h`` (the official probe
reads the bottleneck's output instead).
"""

import keras
from keras import ops

from keras_latent.models import checks
from keras_latent.models.base import Autoencoder

CODEBOOK_SIZE = 2**14  # official z_log_size = 14
NUM_LATENTS = 10
COMMITMENT = 10.0  # official beta
DECAY = 0.999
EPSILON = 1e-5
HIDDEN_SIZE = 512  # official filter_size


@keras.saving.register_keras_serializable(package="keras_latent")
class VectorQuantizer(keras.layers.Layer):
    """Nearest-neighbour quantisation of ``(n, dim)`` vectors against an EMA codebook.

    ``call(vectors, training)`` returns ``{"quantized": (n, dim), "indices": (n,)}``; with
    ``training=True`` it also updates ``ema_count``, ``ema_sum`` and ``codebook`` (all
    non-trainable) by the moving-average rule of the module docstring. Distances are computed on
    ``stop_gradient(vectors)`` and the codebook is read without gradient.
    """

    def __init__(self, codebook_size, dim, decay=DECAY, epsilon=EPSILON, **kwargs):
        super().__init__(**kwargs)
        self.codebook_size = checks.integer("codebook_size", codebook_size)
        self.dim = checks.integer("dim", dim)
        self.decay = checks.real("decay", decay, low=0.0, high=1.0, high_open=True)
        self.epsilon = checks.real("epsilon", epsilon, low=0.0, low_open=True)

    def build(self, input_shape=None):
        shape = (self.codebook_size, self.dim)
        self.codebook = self.add_weight(
            shape=shape,
            initializer=keras.initializers.VarianceScaling(1.0, "fan_in", "uniform"),
            trainable=False,
            name="codebook",
        )
        self.ema_count = self.add_weight(
            shape=(self.codebook_size,), initializer="zeros", trainable=False, name="ema_count"
        )
        self.ema_sum = self.add_weight(
            shape=shape, initializer="zeros", trainable=False, name="ema_sum"
        )
        self.ema_sum.assign(ops.copy(self.codebook.value))  # a copy: JAX must not share buffers

    def nearest(self, vectors):
        """Index of the nearest codebook entry of each row of ``vectors`` (n, dim)."""
        codebook = ops.stop_gradient(ops.convert_to_tensor(self.codebook))
        distances = (
            ops.sum(ops.square(vectors), axis=1, keepdims=True)
            - 2.0 * ops.matmul(vectors, ops.transpose(codebook))
            + ops.sum(ops.square(codebook), axis=1)[None, :]
        )
        return ops.argmin(distances, axis=1)

    def call(self, vectors, training=False):
        vectors = ops.stop_gradient(vectors)
        indices = self.nearest(vectors)
        quantized = ops.stop_gradient(ops.take(self.codebook, indices, axis=0))
        if training:
            self._moving_average_update(vectors, indices)
        return {"quantized": quantized, "indices": indices}

    def _moving_average_update(self, vectors, indices):
        k = self.codebook_size
        counts = ops.segment_sum(ops.ones_like(indices, dtype=vectors.dtype), indices, k)
        sums = ops.segment_sum(vectors, indices, k)
        ema_count = self.decay * self.ema_count + (1.0 - self.decay) * counts
        ema_sum = self.decay * self.ema_sum + (1.0 - self.decay) * sums
        total = ops.sum(ema_count)
        smoothed = (ema_count + self.epsilon) / (total + k * self.epsilon) * total
        self.ema_count.assign(ema_count)
        self.ema_sum.assign(ema_sum)
        self.codebook.assign(ema_sum / smoothed[:, None])

    def compute_output_spec(self, vectors, training=False):
        return {
            "quantized": keras.KerasTensor(vectors.shape, dtype=self.compute_dtype),
            "indices": keras.KerasTensor(vectors.shape[:1], dtype="int32"),
        }

    def get_config(self):
        return {
            **super().get_config(),
            "codebook_size": self.codebook_size,
            "dim": self.dim,
            "decay": self.decay,
            "epsilon": self.epsilon,
        }


def perplexity(indices, codebook_size):
    """``exp(-sum_k p_k log p_k)`` of the code frequencies ``p`` in ``indices``."""
    flat = ops.reshape(indices, (-1,))
    counts = ops.segment_sum(ops.ones_like(flat, dtype="float32"), flat, codebook_size)
    p = counts / ops.sum(counts)
    return ops.exp(-ops.sum(p * ops.log(p + 1e-10)))


@keras.saving.register_keras_serializable(package="keras_latent")
class VQVAE(Autoencoder):
    """VQ-VAE with the official bottleneck (see ``Autoencoder`` for the shared arguments).

    Args:
        codebook_size: entries K of the codebook (official 2^14).
        num_latents: discrete codes per image (official 10), each of ``d_z`` values.
        commitment: beta, weight of ``mean((e - sg(q))^2)`` (>= 0; official 10).
        decay: EMA decay gamma in [0, 1) (official 0.999).
        epsilon: Laplace smoothing of the EMA counts (> 0; official 1e-5).
        hidden_size: width of the dense layer after the quantisation (official 512).

    ``call(x)`` returns ``latent`` (the continuous encoder output ``h``), ``reconstruction``,
    ``pre_quantized`` and ``quantized`` (``(n, num_latents, d_z)``) and ``codes``
    (``(n, num_latents)`` codebook indices).
    """

    loss_names = ("reconstruction", "commitment", "perplexity")

    def __init__(
        self,
        *args,
        codebook_size=CODEBOOK_SIZE,
        num_latents=NUM_LATENTS,
        commitment=COMMITMENT,
        decay=DECAY,
        epsilon=EPSILON,
        hidden_size=HIDDEN_SIZE,
        **kwargs,
    ):
        codebook_size = checks.integer("codebook_size", codebook_size)
        num_latents = checks.integer("num_latents", num_latents)
        commitment = checks.real("commitment", commitment, low=0.0)
        decay = checks.real("decay", decay, low=0.0, high=1.0, high_open=True)
        epsilon = checks.real("epsilon", epsilon, low=0.0, low_open=True)
        hidden_size = checks.integer("hidden_size", hidden_size)
        super().__init__(*args, **kwargs)
        self.codebook_size = codebook_size
        self.num_latents = num_latents
        self.commitment = commitment
        self.decay = decay
        self.epsilon = epsilon
        self.hidden_size = hidden_size
        d_z = self.latent_size
        self.pre_quantization = keras.layers.Dense(num_latents * d_z, name="pre_quantization")
        self.pre_quantization.build((None, d_z))
        # float32 whatever the policy: distances to 2^14 entries and 0.999-decay moving
        # averages do not survive half precision (see keras_latent.models.precision).
        self.quantizer = VectorQuantizer(
            codebook_size, d_z, decay, epsilon, name="quantizer", dtype="float32"
        )
        self.quantizer.build((None, d_z))
        self.post_hidden = keras.layers.Dense(hidden_size, name="post_hidden")
        self.post_hidden.build((None, num_latents * d_z))
        self.post_output = keras.layers.Dense(d_z, name="post_output")
        self.post_output.build((None, hidden_size))

    def bottleneck(self, h, training=False):
        """Continuous codes ``h`` -> ``(decoder input, pre_quantized, quantized, indices)``;
        updates the codebook when ``training``."""
        d_z = self.latent_size
        e = ops.reshape(self.pre_quantization(ops.reshape(h, (-1, d_z))), (-1, d_z))
        result = self.quantizer(e, training=training)
        q = result["quantized"]
        straight_through = e + ops.stop_gradient(ops.cast(q, e.dtype) - e)
        y = ops.reshape(straight_through, (-1, self.num_latents * d_z))
        y = self.post_output(ops.relu(self.post_hidden(ops.relu(y))))
        return ops.reshape(y, (-1, *self.latent_shape)), e, q, result["indices"]

    def call(self, x, training=False):
        h = self.encoder(x, training=training)
        decoder_input, e, q, indices = self.bottleneck(h, training=training)
        shape = (-1, self.num_latents, self.latent_size)
        return {
            "latent": h,
            "reconstruction": self.decoder(decoder_input, training=training),
            "pre_quantized": ops.reshape(e, shape),
            "quantized": ops.reshape(q, shape),
            "codes": ops.reshape(indices, (-1, self.num_latents)),
        }

    def loss_terms(self, x, outputs, training):
        reconstruction = ops.mean(ops.square(x - outputs["reconstruction"]))
        commitment = ops.mean(
            ops.square(outputs["pre_quantized"] - ops.stop_gradient(outputs["quantized"]))
        )
        total = reconstruction + self.commitment * commitment
        return total, {
            "reconstruction": reconstruction,
            "commitment": commitment,
            "perplexity": perplexity(outputs["codes"], self.codebook_size),
        }

    # -------------------------------------------------------------- numpy in, numpy out
    def decode(self, z, batch_size=256):
        """Continuous codes ``(n, *latent_shape)`` (or ``(n, d_z)``) -> images, through the
        quantisation (no codebook update)."""
        z = self._check_latents(z)
        return self._map_batches(self._decode_through_bottleneck, z, batch_size)

    def decode_tensor(self, z, training=False):
        """The graph of :meth:`decode`: through the quantisation, then the decoder."""
        return self._decode_through_bottleneck(z, training=training)

    def _decode_through_bottleneck(self, h, training=False):
        return self.decoder(self.bottleneck(h, training=training)[0], training=training)

    def get_config(self):
        return {
            **super().get_config(),
            "codebook_size": self.codebook_size,
            "num_latents": self.num_latents,
            "commitment": self.commitment,
            "decay": self.decay,
            "epsilon": self.epsilon,
            "hidden_size": self.hidden_size,
        }
