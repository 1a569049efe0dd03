"""Variational autoencoder, as the ACAI paper's baseline (official ``vae.py``).

The encoder's output ``h`` is flattened (``d_z`` values) and two dense heads give the posterior
``q(z|x) = N(mu, diag(exp(log_var)))``, each of size ``d_z``. In training the decoder sees the
reparameterised sample ``z = mu + exp(log_var / 2) * eps``, ``eps ~ N(0, I)``, reshaped to the
spatial latent; its linear output are the logits of a Bernoulli likelihood on ``(x + 1) / 2``.
The loss is the negative ELBO, with the official code's reductions (sum over dimensions, mean
over the batch):

- ``reconstruction = mean_batch sum_pixels BCE((x + 1) / 2, logits)`` (nats per image; the
  Bernoulli log-probability of the grey levels, as TensorFlow's ``Bernoulli.log_prob``);
- ``kl = mean_batch 0.5 * sum_dims(exp(log_var) + mu^2 - 1 - log_var)``;
- ``loss = reconstruction + beta * kl``, ``beta = 1``.

Images map back to [-1, 1] as ``2 * sigmoid(logits) - 1 = tanh(logits / 2)``
(``reconstruction`` in ``call``, ``decode``); ``training=False`` decodes ``mu``.
``sample(n)`` decodes draws from the N(0, I) prior.

The codes a VAE gives out (``latent_mode``):

- ``"mean"`` (the class's default): ``encode`` returns the posterior mean ``mu``, deterministic;
  the in-training linear probe reads ``mu``. This project's choice.
- ``"sample"`` (the official ``vae.py``, and the ``vae_*`` presets, which reproduce the
  paper's figures): ``encode`` returns a posterior sample ``mu + exp(log_var / 2) * eps``, so
  interpolation, clustering and frozen-latent probes see samples as the paper's Table 1 and
  Table 2 did, and ``reconstruct`` decodes a sample (the official ``ae`` output); the
  in-training probe reads the encoder's convolutional output ``h`` before the
  heads (the official ``single_layer_classifier(stop_gradient(encode))``).
"""

import keras
import numpy as np
from keras import ops

from keras_latent import distribute
from keras_latent.models import checks
from keras_latent.models.base import Autoencoder
from keras_latent.models.prior import sample_prior

BETA = 1.0
LATENT_MODES = ("mean", "sample")


def bernoulli_nll(targets, logits):
    """``-log p(t | logits)`` element-wise for targets in [0, 1], stably:
    ``max(l, 0) - l * t + log(1 + exp(-|l|))``."""
    return ops.relu(logits) - logits * targets + ops.log1p(ops.exp(-ops.abs(logits)))


def gaussian_kl(mean, log_variance):
    """``KL(N(mean, exp(log_variance)) || N(0, I))`` summed over the last axis: shape (n,)."""
    return 0.5 * ops.sum(ops.exp(log_variance) + ops.square(mean) - 1.0 - log_variance, axis=-1)


@keras.saving.register_keras_serializable(package="keras_latent")
class VAE(Autoencoder):
    """VAE on the paper's architecture (see ``Autoencoder`` for the shared arguments).

    Args:
        beta: weight of the KL term (>= 0; 1 is the ELBO).
        latent_mode: ``"mean"`` (default) or ``"sample"`` (the official code's): what ``encode``
            returns and what the in-training probe reads (see the module docstring).

    ``call(x)`` returns ``latent`` (``mu`` in the spatial latent shape), ``mean`` and
    ``log_variance`` (flattened), ``logits``, ``reconstruction`` (``2 sigmoid(logits) - 1``)
    and ``probe_features`` (what the in-training probe reads: ``mu``, or ``h`` flattened).
    """

    loss_names = ("reconstruction", "kl")
    samples_from_prior = True  # sample() draws from the prior, no fitted sampler

    def __init__(self, *args, beta=BETA, latent_mode="mean", **kwargs):
        beta = checks.real("beta", beta, low=0.0)
        if latent_mode not in LATENT_MODES:
            raise ValueError(f"latent_mode must be one of {LATENT_MODES}, got {latent_mode!r}")
        super().__init__(*args, **kwargs)
        self.beta = beta
        self.latent_mode = latent_mode
        self.mean_head = keras.layers.Dense(self.latent_size, name="mean_head")
        self.log_variance_head = keras.layers.Dense(self.latent_size, name="log_variance_head")
        self.mean_head.build((None, self.latent_size))
        self.log_variance_head.build((None, self.latent_size))

    def posterior(self, x, training=False):
        """``(mu, log_var)`` of ``q(z|x)``, each flattened to ``(n, d_z)``."""
        h = ops.reshape(self.encoder(x, training=training), (-1, self.latent_size))
        return self.mean_head(h), self.log_variance_head(h)

    def call(self, x, training=False):
        h = ops.reshape(self.encoder(x, training=training), (-1, self.latent_size))
        mean, log_variance = self.mean_head(h), self.log_variance_head(h)
        z = mean
        if training:
            eps = distribute.replica_normal(ops.shape(mean), self.seed_generator, dtype=mean.dtype)
            z = mean + ops.exp(0.5 * log_variance) * eps
        logits = self.decoder(ops.reshape(z, (-1, *self.latent_shape)), training=training)
        return {
            "latent": ops.reshape(mean, (-1, *self.latent_shape)),
            "mean": mean,
            "log_variance": log_variance,
            "logits": logits,
            "reconstruction": ops.tanh(0.5 * logits),  # 2 sigmoid(logits) - 1
            "probe_features": h if self.latent_mode == "sample" else mean,
        }

    def loss_terms(self, x, outputs, training):
        targets = 0.5 * (x + 1.0)
        nll = bernoulli_nll(targets, outputs["logits"])
        reconstruction = ops.mean(ops.sum(ops.reshape(nll, (ops.shape(nll)[0], -1)), axis=1))
        kl = ops.mean(gaussian_kl(outputs["mean"], outputs["log_variance"]))
        total = reconstruction + self.beta * kl
        return total, {"reconstruction": reconstruction, "kl": kl}

    # -------------------------------------------------------------- numpy in, numpy out
    def encode(self, x, batch_size=256, seed=None):
        """Images -> codes ``(n, *latent_shape)``: the posterior means ``mu`` (``latent_mode``
        "mean"), or posterior samples ``mu + exp(log_var / 2) * eps`` ("sample"), ``eps`` drawn
        with ``np.random.default_rng(seed)`` (an int ``seed`` repeats the draw)."""
        h = super().encode(x, batch_size).reshape(-1, self.latent_size)
        codes = self._map_batches(lambda b, training: self.mean_head(b), h, batch_size)
        if self.latent_mode == "sample":
            log_variance = self._map_batches(
                lambda b, training: self.log_variance_head(b), h, batch_size
            )
            eps = np.random.default_rng(seed).standard_normal(codes.shape).astype("float32")
            codes = codes + np.exp(0.5 * log_variance) * eps
        return codes.reshape((-1, *self.latent_shape))

    def decode(self, z, batch_size=256):
        """Latents -> images ``2 * sigmoid(logits) - 1 = tanh(logits / 2)`` in [-1, 1]."""
        return np.tanh(0.5 * super().decode(z, batch_size))

    def encode_tensor(self, x, training=False):
        """The graph of :meth:`encode` in ``latent_mode="mean"``: the posterior means
        ``(n, *latent_shape)`` (deterministic, whatever the mode)."""
        mean, _ = self.posterior(x, training=training)
        return ops.reshape(mean, (-1, *self.latent_shape))

    def decode_tensor(self, z, training=False):
        """The graph of :meth:`decode`: ``tanh(logits / 2)``."""
        return ops.tanh(0.5 * self.decoder(z, training=training))

    def sample(self, n, seed=None, batch_size=256):
        """``n`` images decoded from ``z ~ N(0, I)``; an int ``seed`` repeats
        its draw (see ``models.prior.sample_prior``)."""
        return sample_prior(self, n, seed=seed, batch_size=batch_size)

    def get_config(self):
        return {**super().get_config(), "beta": self.beta, "latent_mode": self.latent_mode}
