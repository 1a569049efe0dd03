"""Adversarial autoencoder, as the ACAI paper's baseline (official ``aae.py``).

A discriminator ``D`` (an MLP on the flattened latent: dense 100, dense 100, leaky ReLU with
slope 0.2, a linear output logit) learns to tell prior draws ``p ~ N(0, I)`` from codes
``z = encode(x)``; the encoder learns to make its codes pass for prior draws. With
``s(l) = softplus(-l)`` the sigmoid cross-entropy of logit ``l`` against label 1 and
``softplus(l)`` against label 0, means over the batch:

- autoencoder: ``mean((x - x_hat)^2) + w * mean(softplus(-D(z)))``, ``w = 1``;
- discriminator: ``mean(softplus(D(z))) + mean(softplus(-D(p)))``.

Both are minimised at once from one ``compute_loss``, isolated exactly as ACAI isolates its
critic: the discriminator's terms see ``stop_gradient(z)``, and the encoder's adversarial term
runs the discriminator through ``stateless_call`` with stop-gradient weights, so its gradient
reaches the encoder through the discriminator's activations but never moves the discriminator.
The official code trains the two with separate Adams at the same learning rate (1e-4); Adam
is element-wise, so one Adam over all variables is the same update.
``discriminator_accuracy`` (logged, not minimised) is the mean of the discriminator's accuracy
on codes and on prior draws, as the official ``adversary_accuracy``.
"""

import keras
from keras import ops

from keras_latent import distribute
from keras_latent.models import checks
from keras_latent.models.base import Autoencoder
from keras_latent.models.precision import float32
from keras_latent.models.prior import sample_prior

ADVERSARIAL_WEIGHT = 1.0
DISCRIMINATOR_SIZES = (100, 100)
LEAKY_SLOPE = 0.2  # tf.nn.leaky_relu's default, as the official code uses


def build_discriminator(latent_size, sizes=DISCRIMINATOR_SIZES, name="discriminator"):
    """MLP ``(n, latent_size) -> (n,)`` logits: dense layers of ``sizes`` with leaky ReLU(0.2),
    then a linear dense unit (Keras' default Glorot-uniform kernels, zero biases, as TF1's
    ``tf.layers.dense``)."""
    inputs = keras.Input((latent_size,), name=f"{name}_latent")
    y = inputs
    for i, size in enumerate(sizes):
        y = keras.layers.Dense(size, name=f"{name}_dense{i}")(y)
        y = keras.layers.LeakyReLU(LEAKY_SLOPE, name=f"{name}_leaky{i}")(y)
    y = keras.layers.Dense(1, name=f"{name}_logit")(y)
    outputs = keras.layers.Reshape((), name=f"{name}_squeeze")(y)
    return keras.Model(inputs, outputs, name=name)


@keras.saving.register_keras_serializable(package="keras_latent")
class AAE(Autoencoder):
    """Adversarial autoencoder (see ``Autoencoder`` for the shared arguments).

    Args:
        adversarial_weight: weight ``w`` of the encoder's adversarial term (>= 0; official 1).
        discriminator_sizes: hidden layer sizes of the discriminator (official ``(100, 100)``).
    """

    loss_names = ("reconstruction", "adversarial", "discriminator", "discriminator_accuracy")
    samples_from_prior = True  # sample() draws from the prior, no fitted sampler

    def __init__(
        self,
        *args,
        adversarial_weight=ADVERSARIAL_WEIGHT,
        discriminator_sizes=DISCRIMINATOR_SIZES,
        **kwargs,
    ):
        adversarial_weight = checks.real("adversarial_weight", adversarial_weight, low=0.0)
        discriminator_sizes = checks.integers("discriminator_sizes", discriminator_sizes)
        super().__init__(*args, **kwargs)
        self.adversarial_weight = adversarial_weight
        self.discriminator_sizes = discriminator_sizes
        self.discriminator = build_discriminator(self.latent_size, discriminator_sizes)

    def discriminator_frozen(self, codes):
        """``D(codes)`` with stop-gradient weights: gradients reach only the codes."""
        frozen = [ops.stop_gradient(v) for v in self.discriminator.trainable_variables]
        logits, _ = self.discriminator.stateless_call(
            frozen, self.discriminator.non_trainable_variables, codes
        )
        return float32(logits)

    def loss_terms(self, x, outputs, training):
        z = ops.reshape(outputs["latent"], (-1, self.latent_size))
        prior = distribute.replica_normal(ops.shape(z), self.seed_generator)

        reconstruction = ops.mean(ops.square(x - outputs["reconstruction"]))
        adversarial = ops.mean(ops.softplus(-self.discriminator_frozen(z)))

        logits_latent = float32(self.discriminator(ops.stop_gradient(z), training=training))
        logits_prior = float32(self.discriminator(prior, training=training))
        discriminator = ops.mean(ops.softplus(logits_latent)) + ops.mean(
            ops.softplus(-logits_prior)
        )
        accuracy = 0.5 * (
            ops.mean(ops.cast(logits_latent <= 0, "float32"))
            + ops.mean(ops.cast(logits_prior > 0, "float32"))
        )

        total = reconstruction + self.adversarial_weight * adversarial + discriminator
        return total, {
            "reconstruction": reconstruction,
            "adversarial": adversarial,
            "discriminator": discriminator,
            "discriminator_accuracy": accuracy,
        }

    def sample(self, n, seed=None, batch_size=256):
        """``n`` images decoded from ``z ~ N(0, I)``; an int ``seed`` repeats
        its draw (see ``models.prior.sample_prior``)."""
        return sample_prior(self, n, seed=seed, batch_size=batch_size)

    def get_config(self):
        return {
            **super().get_config(),
            "adversarial_weight": self.adversarial_weight,
            "discriminator_sizes": list(self.discriminator_sizes),
        }
