"""ACAI's critic in two calls per step (the model's) against three (before), same process.

    python benchmarks/acai_critic_passes.py --steps 20 --rounds 2     # under KERAS_BACKEND

``ACAI.loss_terms`` runs the critic's own two stop-gradient batches (decoded mixes, blended
reconstructions) through one call on their concatenation; ``ThreeCalls`` is the former form
with one call each (mathematically identical: the critic has no batch-dependent layer). Both
train ``acai_mnist`` through ``fit`` on the same random batches, alternately for ``--rounds``
rounds; prints the in-fit images/s of each round (batch 1 to the end, as
``throughput.py``) and the best-of-rounds ratio. Also checks that both give the same loss
from the same weights.
"""

import argparse
import time

import keras
import numpy as np
from keras import ops

from keras_latent import presets
from keras_latent.models import ACAI


class ThreeCalls(ACAI):
    """ACAI with the critic's two stop-gradient batches in separate calls (the former form)."""

    def loss_terms(self, x, outputs, training):
        z, x_hat = outputs["latent"], outputs["reconstruction"]
        alpha = self.mixing_coefficients(ops.shape(z)[0])
        z_mix = alpha * z + (1.0 - alpha) * self.partner(z)
        x_mix = ops.cast(self.decoder(z_mix, training=training), "float32")
        reconstruction = ops.mean(ops.square(x - x_hat))
        adversarial = ops.mean(ops.square(self.critic_frozen(x_mix)))
        gamma = self.critic_regularization
        real = gamma * x + (1.0 - gamma) * x_hat
        critic_mix = ops.cast(self.critic(ops.stop_gradient(x_mix), training=training), "float32")
        critic_real = ops.cast(self.critic(ops.stop_gradient(real), training=training), "float32")
        critic = ops.mean(ops.square(critic_mix - ops.reshape(alpha, (-1,)))) + ops.mean(
            ops.square(critic_real)
        )
        total = reconstruction + self.adversarial_weight * adversarial + critic
        return total, {
            "reconstruction": reconstruction,
            "adversarial": adversarial,
            "critic": critic,
        }


class Rate(keras.callbacks.Callback):
    def on_train_batch_begin(self, batch, logs=None):
        if batch == 1:
            self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.end = time.perf_counter()


def parse_args(description):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    return parser.parse_args()


def compare(alternative, names, args, loss_check=None):
    """Train ``acai_mnist`` (the model, ``names[0]``) and ``alternative`` (an ACAI subclass,
    ``names[1]``) from the same weights on the same random batches, alternately for
    ``args.rounds`` rounds; print each round's in-fit images/s and the best-of-rounds ratio.

    ``loss_check(model, x)``, default ``evaluate``'s loss, is printed for both first.
    """
    n = args.steps * args.batch_size
    x = np.random.default_rng(0).uniform(-1, 1, (n, 32, 32, 1)).astype("float32")
    reference = presets.build("acai_mnist", seed=0)
    other = alternative.from_config(reference.get_config())
    other.compile(optimizer=keras.optimizers.Adam(1e-4, epsilon=1e-8))
    other.set_weights(reference.get_weights())
    models = dict(zip(names, (reference, other)))
    loss_check = loss_check or (lambda model, x: float(model.evaluate(x, verbose=0)[0]))
    print("same loss from the same weights:", {k: loss_check(m, x[:64]) for k, m in models.items()})
    rates = {k: [] for k in models}
    for _ in range(args.rounds):
        for name, model in models.items():
            rate = Rate()
            model.fit(x, batch_size=args.batch_size, shuffle=False, verbose=0, callbacks=[rate])
            rates[name].append((args.steps - 1) * args.batch_size / (rate.end - rate.start))
    print(keras.backend.backend(), {k: [round(v) for v in r] for k, r in rates.items()})
    ratio = max(rates[names[0]]) / max(rates[names[1]])
    print(f"{names[0]} / {names[1]}, best of rounds: {ratio:.2f}")


def main():
    compare(ThreeCalls, ("two_calls", "three_calls"), parse_args(__doc__.split("\n")[0]))


if __name__ == "__main__":
    main()
