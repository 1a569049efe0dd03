"""Plain AE, RAE-L2, IRMAE and the eccentric AE at two weights on real MNIST, one budget each.

    python benchmarks/eccentric_mnist.py --steps 5000 --data-dir ../shared/data/mnist

Every model has the same architecture (the ACAI MNIST layout: depth 16, latent 2 x 4 x 4, d_z
32 by default), optimizer (Adam 1e-4, epsilon 1e-8), batch size, seed, data order and number
of steps, with the paper's linear probe trained alongside on the stop-gradient latent. Per
model it measures on the 10,000 test images:

- ``reconstruction_mse``: mean squared error of ``reconstruct`` (pixels in [-1, 1]);
- ``eccentricity``: largest / smallest variance of the test codes' principal components, and
  the full variance spectrum;
- ``probe_accuracy``: the alongside linear probe (the ACAI paper's protocol);
- ``clustering_accuracy``, ``frechet_distance``: from ``keras_latent.metrics`` (K-means on the
  whitened codes; Fréchet distance in the MNIST classifier's feature space between test images
  and samples of a 10-component Gaussian mixture fitted on training codes).

Results are written atomically to ``--output`` (default
``benchmarks/results/eccentric_mnist_{steps}steps.json``) and printed as a Markdown table.
"""

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def build_models(args):
    from keras_latent.models import IRMAE, RAE, Autoencoder, EccentricAutoencoder

    arch = dict(
        image_shape=(32, 32, 1),
        depth=args.depth,
        latent=args.latent,
        latent_width=4,
        num_classes=10,
        seed=args.seed,
    )
    models = {
        "ae": lambda: Autoencoder(**arch),
        "rae": lambda: RAE(**arch),
        "irmae": lambda: IRMAE(**arch),
    }
    for weight in args.weights:
        models[f"eccentric_{weight:g}"] = lambda w=weight: EccentricAutoencoder(
            **arch, eccentric_weight=w
        )
    return models


def train_and_measure(make, data, args):
    import keras

    from keras_latent.callbacks import FitTimer
    from keras_latent.datasets import ArrayStream
    from keras_latent.metrics import frechet, representation

    (x_train, y_train), (x_test, y_test) = data
    keras.utils.set_random_seed(args.seed)
    model = make()
    model.compile()
    stream = ArrayStream(x_train, y_train, batch_size=args.batch_size, seed=args.seed)
    # Whole epochs, then the remaining steps as one shorter epoch: exactly --steps steps.
    epochs, remainder = divmod(args.steps, len(stream))
    clock, logs = FitTimer(), {}
    plan = [dict(epochs=epochs)] if epochs else []
    if remainder:
        plan.append(dict(epochs=epochs + 1, initial_epoch=epochs, steps_per_epoch=remainder))
    seconds = 0.0
    for kwargs in plan:
        history = model.fit(
            stream, shuffle=False, verbose=args.verbose, callbacks=[clock], **kwargs
        )
        seconds += clock.seconds
        for key, values in history.history.items():
            logs.setdefault(key, []).extend(values)
    steps = args.steps
    record = {
        "model": type(model).__name__,
        "config": {k: v for k, v in model.get_config().items() if not isinstance(v, dict)},
        "training": {
            "steps": steps,
            "images_seen": steps * args.batch_size,
            "fit_time_s": round(seconds, 1),
            "final_logs": {k: float(v[-1]) for k, v in logs.items()},
        },
    }
    z_test = model.encode(x_test)
    x_hat = model.decode(z_test)
    record["reconstruction_mse"] = float(np.mean((x_hat - x_test) ** 2))
    pcs = model.principal_components(x_test, allow_singular=True)
    record["eccentricity"] = pcs.eccentricity if np.isfinite(pcs.eccentricity) else None
    record["latent_rank"] = pcs.rank
    record["latent_variances"] = [float(v) for v in pcs.variances]
    logits = keras.ops.convert_to_numpy(model.probe(z_test.reshape(len(z_test), -1)))
    record["probe_accuracy"] = float(np.mean(logits.argmax(axis=1) == y_test))

    z_train = model.encode(x_train)
    record["clustering_accuracy"] = float(
        representation.clustering_accuracy_from_latents(
            z_train, y_train, z_test, y_test, n_init=args.cluster_restarts, seed=args.seed
        )
    )
    model.fit_sampler(x_train, kind="gmm", n_components=10, seed=args.seed)
    samples = np.clip(model.sample(len(x_test)), -1.0, 1.0)  # decoded draws may overshoot
    record["frechet_distance"] = float(frechet.frechet_distance_images(x_test, samples))
    return record


def table(results):
    rows = [
        "| model | steps | test MSE | eccentricity | probe acc. | clustering acc. | Fréchet "
        "(classifier features) | fit time |",
        "|---|---|---|---|---|---|---|---|",
    ]

    def show(value, spec):
        return "n/a" if value is None else format(value, spec)

    for name, r in results.items():
        rows.append(
            f"| {name} | {r['training']['steps']:,} | {r['reconstruction_mse']:.4f} | "
            f"{show(r['eccentricity'], '.3g')} | {show(r['probe_accuracy'], '.4f')} | "
            f"{show(r['clustering_accuracy'], '.4f')} | {show(r['frechet_distance'], '.2f')} | "
            f"{r['training']['fit_time_s'] / 60:.1f} min |"
        )
    return "\n".join(rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=5000, help="training steps per model")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--weights",
        type=float,
        nargs=2,
        default=[0.1, 0.01],
        help="the two eccentric weights (default 0.1 and 0.01)",
    )
    parser.add_argument("--depth", type=int, default=16)
    parser.add_argument("--latent", type=int, default=2, help="latent channels (d_z = 16x)")
    parser.add_argument("--train-size", type=int, default=None, help="first N training images")
    parser.add_argument("--test-size", type=int, default=None, help="first N test images")
    parser.add_argument("--cluster-restarts", type=int, default=100, help="K-means restarts")
    parser.add_argument("--models", nargs="*", default=None, help="subset of the models")
    parser.add_argument("--data-dir", default=None, help="folder of the MNIST IDX files")
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--verbose", type=int, default=0)
    args = parser.parse_args(argv)
    if args.steps < 1 or args.batch_size < 1:
        parser.error("--steps and --batch-size must be positive")

    import keras

    from keras_latent.datasets import load
    from keras_latent.files import write_json
    from keras_latent.hardware import describe_device

    x_train, y_train = load("mnist", "train", data_dir=args.data_dir)
    x_test, y_test = load("mnist", "test", data_dir=args.data_dir)
    data = (
        (x_train[: args.train_size], y_train[: args.train_size]),
        (x_test[: args.test_size], y_test[: args.test_size]),
    )
    models = build_models(args)
    chosen = args.models or list(models)
    unknown = sorted(set(chosen) - set(models))
    if unknown:
        parser.error(f"unknown models {unknown}; known: {', '.join(models)}")

    output = args.output or REPO / f"benchmarks/results/eccentric_mnist_{args.steps}steps.json"
    report = {
        "command": " ".join([Path(sys.argv[0]).name, *(argv or sys.argv[1:])]),
        "backend": keras.backend.backend(),
        "device": describe_device(),
        "python": platform.python_version(),
        "keras": keras.__version__,
        "train_images": len(data[0][0]),
        "test_images": len(data[1][0]),
        "results": {},
    }
    for name in chosen:
        started = time.time()
        report["results"][name] = train_and_measure(models[name], data, args)
        print(f"{name}: done in {time.time() - started:.0f} s", file=sys.stderr, flush=True)
        write_json(output, report)  # after each model, so a cut run keeps what it measured
    print(table(report["results"]))
    print(f"written to {output}", file=sys.stderr)


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    main()
