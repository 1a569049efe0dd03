"""ACAI's decoder in two calls per step (the model's) against one on both batches, same process.

    python benchmarks/acai_decoder_passes.py --steps 50 --rounds 3     # under KERAS_BACKEND

A training step of ``ACAI`` decodes the codes in ``call`` (the reconstructions) and their
interpolants in ``loss_terms`` (the mixes). ``OneDecoderCall`` draws the mixing coefficients
in ``call`` instead and decodes the concatenation of codes and interpolants in one call of
twice the batch (mathematically identical: the decoder has no batch-dependent layer), as the
critic's two stop-gradient batches already are (``acai_critic_passes.py``). Same protocol as
that script: alternate rounds of ``fit`` on the same random batches from the same weights,
in-fit images/s, best-of-rounds ratio, and the training loss of both from the same weights
and random draws.
"""

from acai_critic_passes import compare, parse_args
from keras import ops

from keras_latent.models import ACAI
from keras_latent.models.precision import float32


class OneDecoderCall(ACAI):
    """ACAI decoding reconstructions and mixes in one call on their concatenation."""

    def call(self, x, training=False):
        if not training:
            return super().call(x, training=training)
        z = self.encoder(x, training=training)
        n = ops.shape(z)[0]
        alpha = self.mixing_coefficients(n)
        z_mix = alpha * z + (1.0 - alpha) * self.partner(z)
        decoded = self.decoder(ops.concatenate([z, z_mix], axis=0), training=training)
        return {"latent": z, "reconstruction": decoded[:n], "mix": decoded[n:], "alpha": alpha}

    def loss_terms(self, x, outputs, training):
        if "mix" not in outputs:  # evaluate: call decoded the codes only
            return super().loss_terms(x, outputs, training)
        x_hat, x_mix, alpha = outputs["reconstruction"], float32(outputs["mix"]), outputs["alpha"]
        reconstruction = ops.mean(ops.square(x - x_hat))
        adversarial = ops.mean(ops.square(self.critic_frozen(x_mix)))
        gamma = self.critic_regularization
        real = gamma * x + (1.0 - gamma) * x_hat
        both = ops.stop_gradient(ops.concatenate([x_mix, real], axis=0))
        scores = float32(self.critic(both, training=training))
        n = ops.shape(x)[0]
        critic = ops.mean(ops.square(scores[:n] - ops.reshape(alpha, (-1,)))) + ops.mean(
            ops.square(scores[n:])
        )
        total = reconstruction + self.adversarial_weight * adversarial + critic
        return total, {
            "reconstruction": reconstruction,
            "adversarial": adversarial,
            "critic": critic,
        }


def training_loss(model, x):
    """The loss a training step minimises, from the model's weights and next random draw."""
    return float(model.compute_loss(x=x, y_pred=model(x, training=True), training=True))


def main():
    args = parse_args(__doc__.split("\n")[0])
    compare(OneDecoderCall, ("two_calls", "one_call"), args, loss_check=training_loss)


if __name__ == "__main__":
    main()
