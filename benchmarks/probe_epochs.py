"""How many epochs the post-hoc linear probe needs: MNIST accuracy against probe epochs.

    python benchmarks/probe_epochs.py --data-dir ../shared/data/mnist --epochs 10 50 100

Encodes MNIST with an *untrained* ACAI encoder (the paper's MNIST architecture, d_z 256,
weights seeded by ``--seed``; random features are a hard case for a linear probe) and trains
``linear_probe_accuracy_from_latents`` (one dense layer, Adam 1e-4, batch 64) for each number
of epochs; prints train and test accuracy and the fit time as a Markdown table.
"""

import argparse
from pathlib import Path

import keras

from keras_latent import datasets
from keras_latent.metrics.representation import encode_flat, linear_probe_accuracy_from_latents
from keras_latent.models import ACAI


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, help="folder of the MNIST IDX .gz files")
    parser.add_argument("--epochs", type=int, nargs="+", default=[10, 50, 100])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    x_train, y_train = datasets.load("mnist", "train", data_dir=args.data_dir)
    x_test, y_test = datasets.load("mnist", "test", data_dir=args.data_dir)
    keras.utils.set_random_seed(args.seed)
    model = ACAI(image_shape=(32, 32, 1), depth=16, latent=16, latent_width=4, seed=args.seed)
    z_train, z_test = encode_flat(model, x_train), encode_flat(model, x_test)
    print(f"untrained ACAI encoder, d_z {z_train.shape[1]}, {keras.backend.backend()}")
    print("| probe epochs | steps | train accuracy | test accuracy | fit time |")
    print("|---|---|---|---|---|")
    for epochs in args.epochs:
        result = linear_probe_accuracy_from_latents(
            z_train, y_train, z_test, y_test, epochs=epochs, return_details=True
        )
        steps = epochs * -(-len(z_train) // result["batch_size"])
        print(
            f"| {epochs} | {steps:,} | {100 * result['train_accuracy']:.2f}% | "
            f"{100 * result['test_accuracy']:.2f}% | {result['fit_time_s']:.0f} s |",
            flush=True,
        )


if __name__ == "__main__":
    main()
