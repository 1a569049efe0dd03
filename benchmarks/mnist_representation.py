"""ACAI and the plain autoencoder on real MNIST: the paper's representation evaluation.

    python benchmarks/mnist_representation.py --data-dir ../shared/data/mnist --steps 3000

Trains the presets ``acai_mnist``, ``ae_mnist`` (d_z 256), ``acai_mnist_dz32`` and
``ae_mnist_dz32`` (d_z 32) with their recipes (the paper's MNIST architecture, batch 64,
``Adam(1e-4, epsilon=1e-8)``, the linear probe trained alongside on the stop-gradient latent) for
``--steps`` steps each, one ``keras-latent train`` process per preset, then scores each with
``keras-latent evaluate`` on the 10,000 test images:

- ``probe_accuracy``: the probe trained alongside, as in the paper (the paper's figures are
  this number, after 2^24 images: ACAI 98.25% at d_z 32, 99.0% at d_z 256);
- ``linear_probe_accuracy``: a fresh probe on the final frozen latents
  (``keras_latent.metrics.representation``, ``--probe-epochs``);
- ``clustering_accuracy``: K-means on the whitened latents with ``--kmeans-restarts``
  restarts (the paper: 1000), Hungarian matching;
- ``reconstruction_mse``: ``mean((x - x_hat)^2)`` in the [-1, 1] pixel scale;
- ``frechet_classifier_distance``: Fréchet distance between the test images and decoded
  samples of a 10-component Gaussian mixture on the training codes, in the shipped MNIST
  classifier's features (not an FID).

The run folders (``--runs``, default ``runs/zoo/PRESET``) are presets with weights: train resumes
from their checkpoints and a finished, evaluated run is not run again, so an interrupted
benchmark continues where it stopped. Each run's ``metrics.json`` is copied to
``benchmarks/results/mnist/PRESET_STEPSsteps.json`` and the Markdown table to
``benchmarks/results/mnist/summary_STEPSsteps.md``.
"""

import argparse
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from keras_latent.files import atomic_path, read_json, write_json  # noqa: E402
from keras_latent.presets import PAPER  # noqa: E402

PRESETS = ("acai_mnist", "ae_mnist", "acai_mnist_dz32", "ae_mnist_dz32")
SCORES = ("probe_accuracy", "linear_probe_accuracy", "clustering_accuracy")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, help="folder of the MNIST IDX .gz files")
    parser.add_argument("--presets", nargs="+", choices=PRESETS, default=list(PRESETS))
    parser.add_argument("--steps", type=int, default=3000, help="training steps per preset")
    parser.add_argument("--probe-epochs", type=int, default=50, help="frozen-latent probe")
    parser.add_argument("--kmeans-restarts", type=int, default=100, help="paper: 1000")
    parser.add_argument("--runs", type=Path, default=REPO / "runs" / "zoo")
    parser.add_argument("--output", type=Path, default=REPO / "benchmarks" / "results" / "mnist")
    args = parser.parse_args(argv)
    if min(args.steps, args.probe_epochs, args.kmeans_restarts) < 1:
        parser.error("--steps, --probe-epochs and --kmeans-restarts must be >= 1")

    records = {preset: run(preset, args) for preset in args.presets}
    summary = table(records, args)
    print(summary)
    path = args.output / f"summary_{args.steps}steps.md"
    with atomic_path(path) as tmp:
        tmp.write_text(f"# ACAI and the plain AE on MNIST, {args.steps} steps\n\n{summary}\n")
    print(f"wrote {path}")


def run(preset, args):
    """The metrics record of one preset's run: trained and evaluated where not done yet."""
    folder = args.runs / preset
    cli = [sys.executable, "-m", "keras_latent.cli"]
    data = ["--data-dir", str(args.data_dir)] if args.data_dir else []
    record = read_json(folder / "metrics.json") if (folder / "metrics.json").exists() else {}
    if (record.get("training") or {}).get("steps") != args.steps:
        command = [*cli, "train", preset, "--steps", str(args.steps), "--output", str(folder)]
        subprocess.run(command + data, check=True, cwd=REPO)
        record = read_json(folder / "metrics.json")
    if not all(key in record.get("test", {}) for key in SCORES):
        command = [*cli, "evaluate", str(folder), "--probe-epochs", str(args.probe_epochs)]
        command += ["--kmeans-restarts", str(args.kmeans_restarts)]
        subprocess.run(command + data, check=True, cwd=REPO)
        record = read_json(folder / "metrics.json")
    record["evaluation"] = {
        "probe_epochs": args.probe_epochs,
        "kmeans_restarts": args.kmeans_restarts,
        "command": " ".join(["python", "benchmarks/mnist_representation.py", *sys.argv[1:]]),
    }
    write_json(args.output / f"{preset}_{args.steps}steps.json", record)
    return record


def table(records, args):
    """Markdown: the scores of every preset beside the paper's probe accuracy."""
    rows = [
        "| preset | d_z | images seen | probe (alongside) | paper probe | probe (frozen) | "
        f"clustering ({args.kmeans_restarts} restarts) | test MSE | Fréchet (classifier) | "
        "fit time | backend, device |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for preset, record in records.items():
        test, training = record["test"], record["training"]
        paper = PAPER.get(preset, {}).get("probe_accuracy")
        fcd = test.get("frechet_classifier_distance")
        rows.append(
            f"| {preset} | {32 if preset.endswith('dz32') else 256} | "
            f"{training['images_seen']:,} | {100 * test['probe_accuracy']:.2f}% | "
            f"{f'{100 * paper:.2f}%' if paper else '-'} | "
            f"{100 * test['linear_probe_accuracy']:.2f}% | "
            f"{100 * test['clustering_accuracy']:.2f}% | {test['reconstruction_mse']:.4f} | "
            f"{'-' if fcd is None else f'{fcd:.1f}'} | {training['fit_time_s'] / 60:.1f} min | "
            f"{training['backend']}, {training['device']} |"
        )
    return "\n".join(rows)


if __name__ == "__main__":
    main()
