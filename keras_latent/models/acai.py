"""ACAI: adversarially constrained autoencoder interpolation (Berthelot et al., ICLR 2019).

A critic ``d`` learns to recover the mixing coefficient of decoded latent interpolations; the
autoencoder learns to make its interpolations indistinguishable from reconstructions. With
``alpha = 0.5 - |u - 0.5|``, ``u ~ U(0, 1)`` per example (one alpha for all latent dimensions),
and each code mixed with the code of the batch reversed,
``x_mix = decode(alpha * z + (1 - alpha) * z[::-1])``:

- autoencoder: ``mean((x - x_hat)^2) + lambda * mean(d(x_mix)^2)``, ``lambda = 0.5``;
- critic: ``mean((d(x_mix) - alpha)^2) + mean(d(gamma * x + (1 - gamma) * x_hat)^2)``,
  ``gamma = 0.2`` (the second term keeps the critic from relying on reconstruction quality).

Both are minimised simultaneously from one forward pass, in one ``compute_loss``: the critic's
terms see stop-gradient images, and the autoencoder's adversarial term calls the critic through
``stateless_call`` with stop-gradient weights, so its gradient reaches the decoder through the
critic's activations but never moves the critic. Adam is element-wise, so one Adam over all
variables equals the official separate Adams at the same learning rate. The stop-gradient form
runs the critic over three batches per step (the official code backpropagates twice instead):
the two stop-gradient batches of the critic's own loss go through it in one call.

A batch of one pairs each code with itself (``z[::-1] == z``): the interpolant is then the
reconstruction itself; allowed, but the critic learns nothing useful from such a batch.
"""

import keras
from keras import ops

from keras_latent import distribute
from keras_latent.architectures import build_critic
from keras_latent.models.base import Autoencoder
from keras_latent.models.precision import float32

ADVERSARIAL_WEIGHT = 0.5  # lambda
CRITIC_REGULARIZATION = 0.2  # gamma


@keras.saving.register_keras_serializable(package="keras_latent")
class ACAI(Autoencoder):
    """ACAI on the paper's architecture (see ``Autoencoder`` for the shared arguments).

    Args:
        adversarial_weight: lambda, weight of ``mean(d(x_mix)^2)`` in the autoencoder loss.
        critic_regularization: gamma, blend of data into the critic's "real" input.
        critic_depth: depth of the critic (default: the autoencoder's ``depth``, as in the
            paper).
    """

    loss_names = ("reconstruction", "adversarial", "critic")

    def __init__(
        self,
        *args,
        adversarial_weight=ADVERSARIAL_WEIGHT,
        critic_regularization=CRITIC_REGULARIZATION,
        critic_depth=None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        if adversarial_weight < 0:
            raise ValueError(f"adversarial_weight must be >= 0, got {adversarial_weight}")
        if not 0.0 <= critic_regularization <= 1.0:
            raise ValueError(
                f"critic_regularization must lie in [0, 1], got {critic_regularization}"
            )
        self.adversarial_weight = float(adversarial_weight)
        self.critic_regularization = float(critic_regularization)
        self.critic_depth = None if critic_depth is None else int(critic_depth)
        self.critic = build_critic(
            image_shape=self.image_shape,
            depth=self.critic_depth or self.depth,
            latent=self.latent,
            latent_width=self.latent_width,
        )

    def mixing_coefficients(self, batch_size):
        """``alpha = 0.5 - |u - 0.5|``, ``u ~ U(0, 1)``: uniform on [0, 0.5], shape (n, 1, 1, 1).

        Under ``tf.distribute`` each replica takes its own slice of one global draw
        (``keras_latent.distribute.replica_draw``), so replicas do not share alphas.
        """
        u = distribute.replica_draw(
            lambda n: keras.random.uniform((n, 1, 1, 1), seed=self.seed_generator), batch_size
        )
        return 0.5 - ops.abs(u - 0.5)

    def partner(self, z):
        """The codes each code is mixed with: the batch reversed, ``z[::-1]`` (the paper's).

        Under ``keras.distribution.DataParallel`` (JAX) the batch is the global batch; under a
        ``tf.distribute`` strategy it is the replica's slice, so codes pair within a replica.
        Both pair each example with another example of a shuffled batch.
        """
        return ops.flip(z, axis=0)

    def critic_frozen(self, images):
        """``d(images)`` with stop-gradient critic weights: gradients reach only the images."""
        frozen = [ops.stop_gradient(v) for v in self.critic.trainable_variables]
        scores, _ = self.critic.stateless_call(frozen, self.critic.non_trainable_variables, images)
        return float32(scores)

    def loss_terms(self, x, outputs, training):
        z, x_hat = outputs["latent"], outputs["reconstruction"]
        alpha = self.mixing_coefficients(ops.shape(z)[0])
        z_mix = alpha * z + (1.0 - alpha) * self.partner(z)
        x_mix = float32(self.decoder(z_mix, training=training))

        reconstruction = ops.mean(ops.square(x - x_hat))
        adversarial = ops.mean(ops.square(self.critic_frozen(x_mix)))

        # The critic's own terms in one pass over both stop-gradient batches (the critic has no
        # batch-dependent layer, so this equals two passes, with fewer and larger ops).
        gamma = self.critic_regularization
        real = gamma * x + (1.0 - gamma) * x_hat
        both = ops.stop_gradient(ops.concatenate([x_mix, real], axis=0))
        scores = float32(self.critic(both, training=training))
        n = ops.shape(x)[0]
        critic_mix, critic_real = scores[:n], scores[n:]
        critic = ops.mean(ops.square(critic_mix - ops.reshape(alpha, (-1,)))) + ops.mean(
            ops.square(critic_real)
        )

        total = reconstruction + self.adversarial_weight * adversarial + critic
        return total, {
            "reconstruction": reconstruction,
            "adversarial": adversarial,
            "critic": critic,
        }

    def get_config(self):
        config = super().get_config()
        config.update(
            adversarial_weight=self.adversarial_weight,
            critic_regularization=self.critic_regularization,
            critic_depth=self.critic_depth,
        )
        return config
