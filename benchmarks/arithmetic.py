"""Arithmetic of a training step: multiply-adds per image of each network, FLOPs of a step.

    python benchmarks/arithmetic.py                      # ae_mnist and acai_mnist
    python benchmarks/arithmetic.py --dataset cifar10

Counts the multiply-adds of every convolution and dense layer in one forward pass of a network
on one image (``positions x kernel size``; 'same' padding counted in full). Elementwise layers
(activations, bias adds, pooling, upsampling) are left out: they add a few percent of the
arithmetic and little of it runs on matrix units. A step's FLOPs are 2 x its multiply-adds over
the passes it makes, with the usual convention that a layer's gradient with respect to its input
costs one forward pass of that layer, and with respect to its weights another; the gradient of
a network's first layer with respect to the images is not computed when nothing needs it.

The steps counted are keras-latent's:

- ``ae``: encoder and decoder forward, both gradients: ``3 (E + D)`` less the encoder's first
  input gradient.
- ``acai``: the same, the decoder again on the mixed codes (both gradients, into the encoder),
  the critic with frozen weights on the decoded mixes (forward and input gradients: the
  adversarial term), and the critic's own loss over both stop-gradient batches (forward and
  weight gradients, two images per image). The official code's two-backward form evaluates the
  critic on the mixes once: one critic forward less (reported beside it).

``throughput.py`` records ``flops_per_image`` with each result of these models and the achieved
FLOP/s. This is a count of the model's arithmetic, not of what a backend executes.
"""

import argparse
import math
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

COUNTED_MODELS = ("ae", "acai")


def layer_macs(network):
    """``[(layer name, multiply-adds per image)]`` of each convolution or dense layer, in order.

    Raises ``ValueError`` for a layer with weights of another kind (it would go uncounted).
    """
    import keras

    counted = []
    for layer in network.layers:
        if isinstance(layer, keras.Model):
            counted += layer_macs(layer)
        elif isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense)):
            kernel = math.prod(int(size) for size in layer.kernel.shape)
            outputs = math.prod(int(size) for size in layer.output.shape[1:])
            channels = layer.filters if isinstance(layer, keras.layers.Conv2D) else layer.units
            positions = outputs // channels
            counted.append((layer.name, positions * kernel))
        elif layer.weights:
            raise ValueError(f"cannot count the arithmetic of {type(layer).__name__} {layer.name}")
    return counted


def network_pass(macs, weight_gradients, input_gradients):
    """Multiply-adds of one pass over a network (``macs``: its layers' per-image counts).

    ``input_gradients``: whether the gradient reaches the network's input (else the first
    layer's input gradient is skipped; the others are needed by any gradient at all).
    """
    forward = sum(macs)
    if not (weight_gradients or input_gradients):
        return forward
    backward = forward if input_gradients else forward - macs[0]
    if weight_gradients:
        backward += forward
    return forward + backward


def step_macs(model, name):
    """``{pass: multiply-adds per image}`` of one training step of model ``name`` ('ae', 'acai').

    The extra key ``official_two_backward`` (ACAI) is the step of the official code's form.
    """
    if name not in COUNTED_MODELS:
        raise ValueError(f"arithmetic is counted for {COUNTED_MODELS}, not {name!r}")
    encoder = [m for _, m in layer_macs(model.encoder)]
    decoder = [m for _, m in layer_macs(model.decoder)]
    passes = {
        "encoder": network_pass(encoder, weight_gradients=True, input_gradients=False),
        "decoder": network_pass(decoder, weight_gradients=True, input_gradients=True),
    }
    if name == "acai":
        critic = [m for _, m in layer_macs(model.critic)]
        passes["decoder on mixes"] = passes["decoder"]
        passes["critic, frozen, on mixes"] = network_pass(critic, False, True)
        passes["critic on both batches"] = 2 * network_pass(critic, True, False)
    total = sum(passes.values())
    passes["total"] = total
    if name == "acai":
        passes["official_two_backward"] = total - sum(critic)
    return passes


def step_flops_per_image(model, name):
    """FLOPs (2 per multiply-add) per image of one training step, or ``None`` if not counted."""
    if name not in COUNTED_MODELS:
        return None
    return 2 * step_macs(model, name)["total"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--models", nargs="+", choices=COUNTED_MODELS, default=list(COUNTED_MODELS))
    args = parser.parse_args(argv)

    from keras_latent import presets

    totals = {}
    for name in args.models:
        model = presets.build(f"{name}_{args.dataset}", seed=0)
        print(f"## {name}_{args.dataset}: multiply-adds per image (millions)\n")
        for network in ("encoder", "decoder", "critic"):
            if hasattr(model, network):
                layers = layer_macs(getattr(model, network))
                print(f"- {network} forward: {sum(m for _, m in layers) / 1e6:.2f}")
        print()
        totals[name] = step_macs(model, name)
        print("| pass of a training step | multiply-adds (M) |")
        print("|---|---|")
        for part, macs in totals[name].items():
            print(f"| {part} | {macs / 1e6:.1f} |")
        print()
    if {"ae", "acai"} <= set(totals):
        ratio = totals["acai"]["total"] / totals["ae"]["total"]
        official = totals["acai"]["official_two_backward"] / totals["ae"]["total"]
        print(f"ACAI / AE step arithmetic: {ratio:.2f} (official two-backward form {official:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
