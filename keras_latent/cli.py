"""The ``keras-latent`` command: train, evaluate and interpolate models on the lines benchmark.

    keras-latent train acai_lines --steps 2000 --output runs/acai_lines
    keras-latent evaluate runs/acai_lines
    keras-latent interpolate runs/acai_lines --pairs 8

A run folder holds ``config.json`` and ``model.weights.h5`` (the model), ``metrics.json``
(training record and lines metrics) and ``interpolation.png``.
"""

import argparse
import json
import math
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

PAPER_LINES = {  # Berthelot et al. 2019, Table 1 (lines): mean distance, smoothness
    "acai": {"mean_distance": 0.24e-3, "smoothness": 0.10},
    "ae": {"mean_distance": 6.88e-3, "smoothness": 0.44},
    # The five baselines' figures below could not be re-read from the paper where they were
    # added (no access to its text); check them against arXiv 1807.07543, Table 1.
    "dropout": {"mean_distance": 2.85e-3, "smoothness": 0.74},
    "denoising": {"mean_distance": 4.21e-3, "smoothness": 0.66},
    "vae": {"mean_distance": 1.21e-3, "smoothness": 0.49},
    "aae": {"mean_distance": 3.26e-3, "smoothness": 0.14},
    "vqvae": {"mean_distance": 5.41e-3, "smoothness": 0.77},
}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="keras-latent", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train a model on lines, then score it")
    train.add_argument(
        "recipe",
        help="MODEL_lines, MODEL one of acai, ae, dropout, denoising, vae, aae, vqvae, wae",
    )
    train.add_argument("--steps", type=int, default=2000, help="training steps (default 2000)")
    train.add_argument("--batch-size", type=int, default=64, help="batch size (paper: 64)")
    train.add_argument("--seed", type=int, default=0, help="seed of weights, data and alpha")
    train.add_argument("--output", type=Path, help="run folder (default runs/RECIPE)")
    train.add_argument("--steps-per-epoch", type=int, default=250, help="steps per progress bar")
    train.add_argument("--eval-pairs", type=int, default=256, help="test pairs to score")

    evaluate = commands.add_parser("evaluate", help="score a run folder on the lines metrics")
    evaluate.add_argument("run", type=Path, help="run folder written by train")
    evaluate.add_argument("--pairs", type=int, default=256, help="test pairs (paper: 256)")
    evaluate.add_argument("--method", choices=("linear", "slerp"), default="linear")

    interpolate = commands.add_parser("interpolate", help="draw test-line interpolations")
    interpolate.add_argument("run", type=Path, help="run folder written by train")
    interpolate.add_argument("--pairs", type=int, default=8, help="rows of the grid")
    interpolate.add_argument("--steps", type=int, default=16, help="frames per row")
    interpolate.add_argument("--method", choices=("linear", "slerp"), default="linear")
    interpolate.add_argument("--output", type=Path, help="PNG path (default RUN/interpolation.png)")

    args = parser.parse_args(argv)
    try:
        {"train": run_train, "evaluate": run_evaluate, "interpolate": run_interpolate}[
            args.command
        ](args)
    except (ValueError, FileNotFoundError) as error:
        print(f"keras-latent {args.command}: error: {error}", file=sys.stderr)
        return 2
    return 0


def run_train(args):
    import keras

    from keras_latent import recipes, saving
    from keras_latent.callbacks import FitTimer
    from keras_latent.datasets.lines import LinesStream
    from keras_latent.files import write_json

    if args.steps < 1 or args.batch_size < 1 or args.steps_per_epoch < 1:
        raise ValueError("--steps, --batch-size and --steps-per-epoch must be >= 1")
    output = args.output or Path("runs") / args.recipe
    keras.utils.set_random_seed(args.seed)
    model = recipes.build(args.recipe, seed=args.seed)
    epochs = math.ceil(args.steps / args.steps_per_epoch)
    steps_per_epoch = math.ceil(args.steps / epochs)
    stream = LinesStream(
        batch_size=args.batch_size, steps_per_epoch=steps_per_epoch, seed=args.seed
    )
    clock = FitTimer()
    print(
        f"Training {args.recipe} ({type(model).__name__}, {model.count_params():,} parameters) "
        f"for {epochs * steps_per_epoch} steps of {args.batch_size} lines on "
        f"{keras.backend.backend()}"
    )
    wall_start = time.perf_counter()
    history = model.fit(stream, epochs=epochs, callbacks=[clock], verbose="auto")
    wall_time = time.perf_counter() - wall_start
    saving.save_model(model, output)

    steps = epochs * steps_per_epoch
    record = {
        "recipe": args.recipe,
        "model": type(model).__name__,
        "dataset": "lines",
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
            "wall_time_s": round(wall_time, 2),
            "images_per_second": round(steps * args.batch_size / clock.seconds, 1),
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
            "history": {k: [float(v) for v in vs] for k, vs in history.history.items()},
        },
    }
    write_json(output / "metrics.json", record)
    score_and_draw(model, output, args.recipe, pairs=args.eval_pairs)


def run_evaluate(args):
    from keras_latent import saving

    model = saving.load_model(args.run, compile=False)
    score_and_draw(model, args.run, model.name, pairs=args.pairs, method=args.method)


def run_interpolate(args):
    from keras_latent import plots, saving
    from keras_latent.datasets.lines import test_set as lines_test_set

    model = saving.load_model(args.run, compile=False)
    images, _ = lines_test_set()
    if not 1 <= args.pairs <= len(images) // 2:
        raise ValueError(f"--pairs must lie in [1, {len(images) // 2}]")
    frames = model.interpolate(
        images[: args.pairs], images[-args.pairs :], steps=args.steps, method=args.method
    )
    path = args.output or args.run / "interpolation.png"
    plots.save_interpolations(frames, path, title=f"{model.name}: {args.method} interpolation")
    print(f"wrote {path}")


def score_and_draw(model, folder, name, pairs=256, method="linear"):
    """Score ``model`` on the lines metrics, record them in ``metrics.json``, draw a grid."""
    from keras_latent import plots
    from keras_latent.datasets.lines import test_set as lines_test_set
    from keras_latent.files import read_json, write_json
    from keras_latent.metrics import lines

    folder = Path(folder)
    result = lines.evaluate(model, n_pairs=pairs, steps=16, method=method)
    metrics_path = folder / "metrics.json"
    record = read_json(metrics_path) if metrics_path.exists() else {"recipe": name}
    record["lines"] = {**result, "pairs": pairs, "steps": 16, "method": method}
    paper = PAPER_LINES.get(name.split("_")[0])
    if paper:
        record["paper_lines"] = paper
    write_json(metrics_path, record)

    images, _ = lines_test_set()
    frames = model.interpolate(images[:8], images[pairs : pairs + 8], steps=16, method=method)
    plots.save_interpolations(frames, folder / "interpolation.png", title=f"{name} ({method})")
    print(json.dumps({"run": str(folder), **record["lines"]}, indent=2))
    if paper:
        print(f"paper ({name.split('_')[0]}): {json.dumps(paper)}")
    return record


def describe_device():
    """Keras' devices, and the CPU model and core count, e.g. ``cpu:0 (AMD EPYC, 2 cores)``."""
    import keras

    devices = ", ".join(keras.distribution.list_devices())
    return f"{devices} ({cpu_model()}, {os.cpu_count()} cores)"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


if __name__ == "__main__":
    sys.exit(main())
