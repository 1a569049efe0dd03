"""ACAI against the plain autoencoder on lines, same budget and seed; prints a Markdown table.

    python benchmarks/lines_acai_vs_ae.py --steps 2000 --seed 0 --output runs/measure

Trains each recipe with ``keras-latent train`` (one fresh process each, the backend from
``KERAS_BACKEND``), unless its run folder already holds a finished ``metrics.json`` (then it
is only read), and tabulates the lines metrics beside the paper's Table 1.
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

RECIPES = ("acai_lines", "ae_lines")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, default=Path("runs/measure"))
    args = parser.parse_args()

    records = {}
    for recipe in RECIPES:
        folder = args.output / recipe
        metrics = folder / "metrics.json"
        if not (metrics.exists() and "lines" in json.loads(metrics.read_text())):
            command = [sys.executable, "-m", "keras_latent.cli", "train", recipe]
            command += ["--steps", str(args.steps), "--seed", str(args.seed)]
            subprocess.run([*command, "--output", str(folder)], check=True)
        records[recipe] = json.loads(metrics.read_text())
    print(table(records))


def table(records):
    rows = [
        "| model | images seen | Mean Distance (1e-3) | Smoothness | paper: Mean Distance (1e-3)"
        " | paper: Smoothness | fit time | backend, device |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for record in records.values():
        training, lines, paper = record["training"], record["lines"], record["paper_lines"]
        rows.append(
            f"| {record['model']} | {training['images_seen']:,} | "
            f"{lines['mean_distance'] * 1e3:.2f} | {lines['smoothness']:.3f} | "
            f"{paper['mean_distance'] * 1e3:.2f} | {paper['smoothness']:.2f} | "
            f"{training['fit_time_s'] / 60:.1f} min | {training['backend']}, "
            f"{training['device']} |"
        )
    return "\n".join(rows)


if __name__ == "__main__":
    main()
