"""How many epochs the post-hoc linear probe needs: MNIST accuracy against probe epochs.

    python benchmarks/probe_epochs.py --data-dir ../shared/data/mnist --epochs 10 50 100

Encodes MNIST with an *untrained* ACAI encoder (the paper's MNIST architecture, d_z 256,
weights seeded by ``--seed``; random features are a hard case for a linear probe) and trains
``linear_probe_accuracy_from_latents`` (one dense layer, Adam 1e-4, batch 64) for each number
of epochs; prints train and test accuracy and the fit time as a Markdown table, and writes
them to ``--output`` (default ``benchmarks/results/probe_epochs.json``, atomically, after each
number of epochs) with the command, backend, device and versions.
"""

import argparse
import platform
import shlex
import sys
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import keras
import numpy as np

from keras_latent import datasets
from keras_latent.files import write_json
from keras_latent.hardware import describe_device
from keras_latent.metrics.representation import encode_flat, linear_probe_accuracy_from_latents
from keras_latent.models import ACAI

OUTPUT = Path("benchmarks/results/probe_epochs.json")


def record_header(argv, d_z, seed):
    """What the record says about the run: command, backend, device, versions, date."""
    backend = keras.backend.backend()
    return {
        "command": shlex.join(["python", "benchmarks/probe_epochs.py", *argv]),
        "backend": backend,
        "device": describe_device(),
        "versions": {
            "python": platform.python_version(),
            "keras": keras.__version__,
            backend: version(backend),
            "numpy": np.__version__,
        },
        "features": f"untrained ACAI encoder, d_z {d_z}",
        "seed": seed,
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "rows": [],
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, help="folder of the MNIST IDX .gz files")
    parser.add_argument("--epochs", type=int, nargs="+", default=[10, 50, 100])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, default=OUTPUT, help="JSON record to write")
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)

    x_train, y_train = datasets.load("mnist", "train", data_dir=args.data_dir)
    x_test, y_test = datasets.load("mnist", "test", data_dir=args.data_dir)
    keras.utils.set_random_seed(args.seed)
    model = ACAI(image_shape=(32, 32, 1), depth=16, latent=16, latent_width=4, seed=args.seed)
    z_train, z_test = encode_flat(model, x_train), encode_flat(model, x_test)
    print(f"untrained ACAI encoder, d_z {z_train.shape[1]}, {keras.backend.backend()}")
    record = record_header(argv, z_train.shape[1], args.seed)
    print("| probe epochs | steps | train accuracy | test accuracy | fit time |")
    print("|---|---|---|---|---|")
    for epochs in args.epochs:
        result = linear_probe_accuracy_from_latents(
            z_train, y_train, z_test, y_test, epochs=epochs, return_details=True
        )
        steps = epochs * -(-len(z_train) // result["batch_size"])
        record["rows"].append(
            {
                "epochs": epochs,
                "steps": steps,
                "batch_size": result["batch_size"],
                "train_accuracy": float(result["train_accuracy"]),
                "test_accuracy": float(result["test_accuracy"]),
                "fit_time_s": float(result["fit_time_s"]),
            }
        )
        record["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
        write_json(args.output, record)
        print(
            f"| {epochs} | {steps:,} | {100 * result['train_accuracy']:.2f}% | "
            f"{100 * result['test_accuracy']:.2f}% | {result['fit_time_s']:.0f} s |",
            flush=True,
        )
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
