"""ACAI and the plain autoencoder on real MNIST: the paper's representation evaluation.

    python benchmarks/mnist_representation.py --data-dir ../shared/data/mnist --steps 262144
    python benchmarks/mnist_representation.py --data-dir ../shared/data/mnist --steps 20 \
        --n-init 10 --probe-epochs 1 --output benchmarks/results/smoke      # smoke test

For each model (``--models``, default ``acai ae``) and latent size (``--latent``: 16 gives
d_z 256, 2 gives d_z 32), trains the paper's MNIST architecture (32x32x1, depth 16,
latent_width 4) through ``fit`` for ``--steps`` steps of ``--batch-size`` 64 training images
with their labels, so that the paper's linear probe trains alongside (``num_classes=10``);
the paper trains for 2^24 images, 262,144 steps. Then measures on the 10,000 test images:

- ``probe_accuracy_in_fit``: the probe trained alongside, as in the paper;
- ``probe_accuracy``: ``linear_probe_accuracy`` (a fresh probe on the final frozen latents);
- ``clustering_accuracy``: ``clustering_accuracy`` (whitened latents, K-means with
  ``--n-init`` restarts, paper 1000, Hungarian matching);
- ``reconstruction_mse``: ``mean((x - x_hat)^2)`` in the [-1, 1] pixel scale;

with the fit and wall times, backend and device, into
``OUTPUT/mnist_{model}_dz{d_z}_{steps}steps.json`` (atomically). A configuration whose JSON
exists is skipped (``--force`` retrains), so an interrupted long run resumes.
"""

import argparse
import math
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import keras
import numpy as np

from keras_latent import datasets
from keras_latent.callbacks import FitTimer
from keras_latent.cli import describe_device
from keras_latent.files import read_json, write_json
from keras_latent.metrics.representation import (
    clustering_accuracy_from_latents,
    encode_flat,
    linear_probe_accuracy_from_latents,
)
from keras_latent.models import ACAI, Autoencoder

MODELS = {"acai": ACAI, "ae": Autoencoder}
ARCHITECTURE = dict(image_shape=(32, 32, 1), depth=16, latent_width=4)
PAPER_PROBE = {("acai", 32): 0.9825, ("acai", 256): 0.990}  # Berthelot et al. 2019


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, help="folder of the MNIST IDX .gz files")
    parser.add_argument("--models", nargs="+", choices=sorted(MODELS), default=["acai", "ae"])
    parser.add_argument("--latent", nargs="+", type=int, default=[16, 2], help="16: d_z 256")
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps-per-epoch", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-init", type=int, default=1000, help="K-means restarts (paper 1000)")
    parser.add_argument("--probe-epochs", type=int, default=None, help="default: the metric's")
    parser.add_argument("--output", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--force", action="store_true", help="rerun configurations done")
    args = parser.parse_args(argv)
    if min(args.steps, args.batch_size, args.steps_per_epoch, args.n_init) < 1:
        raise SystemExit("--steps, --batch-size, --steps-per-epoch and --n-init must be >= 1")

    train = datasets.load("mnist", "train", data_dir=args.data_dir)
    test = datasets.load("mnist", "test", data_dir=args.data_dir)
    records = []
    for model_name in args.models:
        for latent in args.latent:
            d_z = latent * ARCHITECTURE["latent_width"] ** 2
            path = args.output / f"mnist_{model_name}_dz{d_z}_{args.steps}steps.json"
            if path.exists() and not args.force:
                print(f"{path} exists: skipped (--force reruns)")
                records.append(read_json(path))
                continue
            record = run(model_name, latent, train, test, args)
            write_json(path, record)
            print(f"wrote {path}")
            records.append(record)
    print(table(records))
    return 0


def run(model_name, latent, train, test, args):
    (x_train, y_train), (x_test, y_test) = train, test
    wall_start = time.perf_counter()
    keras.utils.set_random_seed(args.seed)
    model = MODELS[model_name](
        **ARCHITECTURE, latent=latent, num_classes=10, seed=args.seed, name=f"{model_name}_mnist"
    )
    model.compile()
    epochs = math.ceil(args.steps / args.steps_per_epoch)
    steps_per_epoch = math.ceil(args.steps / epochs)
    steps = epochs * steps_per_epoch
    print(
        f"{model_name}, d_z {model.latent_size}: {model.count_params():,} parameters, {steps} "
        f"steps of {args.batch_size} on {keras.backend.backend()}",
        flush=True,
    )
    clock = FitTimer()
    history = model.fit(
        x_train,
        y_train,
        batch_size=args.batch_size,
        epochs=epochs,
        steps_per_epoch=steps_per_epoch,
        callbacks=[clock],
        verbose=2,
    )

    eval_start = time.perf_counter()
    z_train = encode_flat(model, x_train, what="train images")
    z_test = encode_flat(model, x_test, what="test images")
    logits = keras.ops.convert_to_numpy(model.probe(z_test))
    in_fit = float(np.mean(np.argmax(logits, axis=1) == y_test))
    reconstruction = model.reconstruct(x_test)
    mse = float(np.mean((x_test - reconstruction) ** 2))
    probe_kwargs = {} if args.probe_epochs is None else {"epochs": args.probe_epochs}
    probe = linear_probe_accuracy_from_latents(
        z_train, y_train, z_test, y_test, num_classes=10, return_details=True, **probe_kwargs
    )
    clustering = clustering_accuracy_from_latents(
        z_train, y_train, z_test, y_test, n_clusters=10, n_init=args.n_init, return_details=True
    )
    eval_time = time.perf_counter() - eval_start
    record = {
        "model": type(model).__name__,
        "dataset": "mnist",
        "d_z": model.latent_size,
        "architecture": {**ARCHITECTURE, "image_shape": [32, 32, 1], "latent": latent},
        "test": {
            "probe_accuracy_in_fit": in_fit,
            "probe_accuracy": probe["test_accuracy"],
            "clustering_accuracy": clustering["test_accuracy"],
            "reconstruction_mse": mse,
            "images": len(x_test),
        },
        "probe": probe,
        "clustering": clustering,
        "paper_probe_accuracy": PAPER_PROBE.get((model_name, model.latent_size)),
        "training": {
            "steps": steps,
            "batch_size": args.batch_size,
            "images_seen": steps * args.batch_size,
            "seed": args.seed,
            "optimizer": "Adam(learning_rate=1e-4, epsilon=1e-8)",
            "backend": keras.backend.backend(),
            "keras_version": keras.__version__,
            "device": describe_device(),
            "fit_time_s": round(clock.seconds, 2),
            "images_per_second": round(steps * args.batch_size / clock.seconds, 1),
            "history": {k: [float(v) for v in vs] for k, vs in history.history.items()},
        },
        "evaluation_time_s": round(eval_time, 2),
        "wall_time_s": round(time.perf_counter() - wall_start, 2),
        "command": " ".join(["python", "benchmarks/mnist_representation.py", *sys.argv[1:]]),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    print({k: record[k] for k in ("model", "d_z", "test")}, flush=True)
    return record


def table(records):
    rows = [
        "| model | d_z | images seen | probe (in fit) | probe (frozen) | paper probe | "
        "clustering | test MSE | fit time | backend, device |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in records:
        t, training = r["test"], r["training"]
        paper = r.get("paper_probe_accuracy")
        rows.append(
            f"| {r['model']} | {r['d_z']} | {training['images_seen']:,} | "
            f"{100 * t['probe_accuracy_in_fit']:.2f}% | {100 * t['probe_accuracy']:.2f}% | "
            f"{'%.2f%%' % (100 * paper) if paper else '-'} | "
            f"{100 * t['clustering_accuracy']:.2f}% | {t['reconstruction_mse']:.4f} | "
            f"{training['fit_time_s'] / 60:.1f} min | {training['backend']}, "
            f"{training['device']} |"
        )
    return "\n".join(rows)


if __name__ == "__main__":
    sys.exit(main())
