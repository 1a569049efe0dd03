"""The ACAI paper's Table 1 on lines: seven autoencoders, one budget, several seeds.

    python benchmarks/table1_lines.py --steps 2000 --seeds 0 1 2

Trains the plain autoencoder, dropout, denoising, VAE, AAE, VQ-VAE and ACAI on the lines
presets (``keras_latent.presets``: the paper's lines architecture, latent 2x2x16, d_z 64;
batch 64; the paper's ``Adam(1e-4, epsilon=1e-8)``) for ``--steps`` steps each, one fresh
``keras-latent train`` process per run (backend from ``KERAS_BACKEND``), and scores each on the
paper's protocol (``keras_latent.metrics.lines.evaluate``: 256 test pairs, 16 steps).

Each run's record (training history, backend, device, times, Mean Distance, Smoothness) is
written atomically to ``OUTPUT/MODEL_STEPSsteps_seedSEED.json``; a run whose record exists is
not trained again, so an interrupted benchmark resumes where it stopped. The run folders
(weights, interpolation grid) go to ``--runs``. At the end a Markdown table of mean +- standard
deviation over the seeds (population std, as the paper's notebook) beside the paper's Table 1
is printed and written to ``OUTPUT/summary_STEPSsteps.md``. Each record also gets the run's
test reconstruction MSE (first 1000 test lines, from the run folder) when it lacks one.
``--dtype-policy mixed_bfloat16`` trains the same runs under mixed precision (names suffixed
``_mixed_bfloat16``), for comparing with float32 under the same budget. ``--extend-from 2000``
starts each run from a copy of the finished 2000-step run (``keras-latent train`` resumes it
exactly), so a longer budget costs only the extra steps.

What the runs match in the official code: the official lines drawing
(``keras_latent.datasets.lines``, quirks included; records made before it became the default
used the centred drawing and live in ``results/table1/``, these in ``results/table1_official/``);
VQ-VAE with the 4x4x16 latent of the official ``runs/vqvae.sh`` (``vqvae_lines``, d_z 256; the
other six 2x2x16, d_z 64); the VAE interpolated on a posterior sample (``vae_lines`` has
``latent_mode="sample"``). A record whose lines score used another drawing is trained again,
never mixed into the table. Differences from the paper's protocol: the paper trains 2^24
images (262,144 steps) and reports, per run, the median of the last 20 evaluations (one every
65,536 images); this scores the final model once.
"""

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from keras_latent.files import atomic_path, read_json, write_json  # noqa: E402
from keras_latent.presets import PAPER  # noqa: E402

DRAWING = "official"  # keras_latent.datasets.lines' default, which keras-latent train uses
MODELS = ("ae", "dropout", "denoising", "vae", "aae", "vqvae", "acai")
NAMES = {
    "ae": "Baseline (AE)",
    "dropout": "Dropout",
    "denoising": "Denoising",
    "vae": "VAE",
    "aae": "AAE",
    "vqvae": "VQ-VAE",
    "acai": "ACAI",
}
# Standard deviations over the paper's runs (ICLR 2019 version of Table 1); means in
# keras_latent.presets.PAPER.
# Like the five baselines' means, these were not re-read from the paper: check them against it.
PAPER_STD = {
    "ae": (0.21e-3, 0.04),
    "dropout": (0.54e-3, 0.02),
    "denoising": (0.32e-3, 0.02),
    "vae": (0.17e-3, 0.13),
    "aae": (0.19e-3, 0.02),
    "vqvae": (0.49e-3, 0.02),
    "acai": (0.01e-3, 0.01),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=2000, help="training steps per run")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--batch-size", type=int, default=64, help="paper: 64")
    parser.add_argument("--steps-per-epoch", type=int, default=250, help="steps per progress bar")
    parser.add_argument(
        "--output", type=Path, default=REPO / "benchmarks" / "results" / "table1_official"
    )
    parser.add_argument("--runs", type=Path, default=REPO / "runs" / "table1_official")
    parser.add_argument(
        "--dtype-policy", default="float32", choices=("float32", "mixed_bfloat16", "mixed_float16")
    )
    parser.add_argument(
        "--extend-from",
        type=int,
        metavar="STEPS",
        help="start each run from a copy of the finished STEPS-step run of the same model and "
        "seed where one exists (resumed training is exact: the same weights as from scratch)",
    )
    args = parser.parse_args(argv)
    if args.steps < 1 or args.batch_size < 1 or min(args.seeds) < 0:
        parser.error("--steps and --batch-size must be >= 1 and seeds >= 0")

    records = {}
    for model in args.models:
        for seed in args.seeds:
            records[model, seed] = run(model, seed, args)
    summary = table(records, args)
    print(summary)
    path = args.output / f"summary_{args.steps}steps{policy_suffix(args)}.md"
    with_header = (
        f"# Table 1 on lines, {args.steps} steps of {args.batch_size}, {args.dtype_policy}"
        f"\n\n{summary}\n"
    )
    with atomic_path(path) as tmp:
        tmp.write_text(with_header)
    print(f"wrote {path}")


def policy_suffix(args):
    """``""`` for float32 runs, else ``_POLICY`` (in record, run and summary names)."""
    return "" if args.dtype_policy == "float32" else f"_{args.dtype_policy}"


def run(model, seed, args):
    """The record of one run: read if present, else trained by ``keras-latent train``; with
    the test reconstruction MSE added (from the run folder) where it is missing."""
    name = f"{model}_{args.steps}steps{policy_suffix(args)}_seed{seed}"
    record_path = args.output / f"{name}.json"
    folder = args.runs / name
    record = read_json(record_path) if record_path.exists() else {}
    if "lines" in record and record_drawing(record) != DRAWING:
        print(
            f"{name}: {record_path} was scored on the {record_drawing(record)} drawing, "
            f"training again on the {DRAWING} one"
        )
        record = {}
        shutil.rmtree(folder, ignore_errors=True)
    if "lines" in record:
        print(f"{name}: recorded in {record_path}, not trained again")
    else:
        if args.extend_from and not folder.exists():
            shorter = f"{model}_{args.extend_from}steps{policy_suffix(args)}_seed{seed}"
            copy_run(args.runs / shorter, folder)
        record = train(model, seed, args, folder, record_path)
    if "test_reconstruction_mse" not in record and (folder / "config.json").exists():
        record["test_reconstruction_mse"] = reconstruction_mse(folder)
        write_json(record_path, record)
    return record


def record_drawing(record):
    """The lines drawing a run's record was scored on (records that predate the official
    drawing as the default name none: they used the centred one)."""
    return record["lines"].get("drawing", "centred")


def copy_run(source, folder):
    """Copy the finished run ``source`` to ``folder`` (atomically), for ``train`` to extend."""
    state = read_json(source / "checkpoint.json") if (source / "checkpoint.json").exists() else {}
    if not state.get("finished"):
        print(f"{source.name}: no finished run to extend, training {folder.name} from scratch")
        return
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    shutil.copytree(source, partial)
    os.replace(partial, folder)
    print(f"{folder.name}: extending a copy of {source.name} (step {state['step']})")


def test_lines(n=1000):
    """The first ``n`` images of the lines test set (pixels in [-1, 1])."""
    from keras_latent.datasets.lines import test_set

    return test_set()[0][:n]


def mean_image_mse():
    """The test MSE of the mean-image plateau: every test line reconstructed as their mean
    image. Early in training every model decodes about that image whatever the code; such a
    run scores Smoothness 0 (its frames do not change)."""
    x = test_lines()
    return float(np.mean((x - x.mean(axis=0)) ** 2))


def reconstruction_mse(folder):
    """Mean squared error of the run's model on the test lines of ``test_lines``."""
    import keras_latent as kl

    x = test_lines()
    return float(np.mean((kl.zoo.load(folder).reconstruct(x) - x) ** 2))


def train(model, seed, args, folder, record_path):
    """Train one run in a fresh ``keras-latent train`` process; its ``metrics.json``."""
    command = [sys.executable, "-m", "keras_latent.cli", "train", f"{model}_lines"]
    command += ["--steps", str(args.steps), "--seed", str(seed), "--output", str(folder)]
    command += ["--batch-size", str(args.batch_size)]
    command += ["--steps-per-epoch", str(args.steps_per_epoch)]
    command += ["--dtype-policy", args.dtype_policy]
    print(f"{folder.name}: {' '.join(command[1:])}", flush=True)
    subprocess.run(command, check=True, cwd=REPO)
    record = read_json(folder / "metrics.json")
    if "lines" not in record or record["training"]["steps"] != args.steps:
        raise RuntimeError(f"{folder / 'metrics.json'} is not a finished {args.steps}-step run")
    write_json(record_path, record)
    return record


def table(records, args):
    """Markdown: mean +- std over seeds of both metrics per model, beside the paper; whether
    ACAI leads on Mean Distance (over all models) and on Smoothness (over the models whose
    every run got past the mean-image plateau)."""
    rows = [
        f"{args.steps} steps of {args.batch_size} lines "
        f"({args.steps * args.batch_size:,} images; the paper: 2^24 = 16,777,216), seeds "
        f"{', '.join(map(str, args.seeds))}, dtype policy {args.dtype_policy}; mean +- std over "
        "seeds; test MSE: reconstruction error on the first 1000 test lines. Data: the "
        f"{DRAWING} lines drawing; VQ-VAE with a 4x4x16 latent (d_z 256), the others 2x2x16; "
        "the VAE interpolated on posterior samples.",
        "",
        "| model | Mean Distance (1e-3) | Smoothness | test MSE | runs past the plateau | "
        "paper: Mean Distance (1e-3) | paper: Smoothness | fit time per run | backend, device |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    plateau = mean_image_mse()
    means, past_all, stuck = {}, set(), []
    for model in args.models:
        runs = [records[model, seed] for seed in args.seeds]
        distance = np.array([r["lines"]["mean_distance"] for r in runs]) * 1e3
        smooth = np.array([r["lines"]["smoothness"] for r in runs])
        mse = np.array([r.get("test_reconstruction_mse", np.nan) for r in runs])
        past = int(np.sum(mse < plateau))
        means[model] = (distance.mean(), smooth.mean())
        if past == len(runs):
            past_all.add(model)
        else:
            stuck.append(NAMES[model])
        minutes = np.mean([r["training"]["fit_time_s"] for r in runs]) / 60
        devices = sorted({f"{r['training']['backend']}, {r['training']['device']}" for r in runs})
        paper, (paper_d, paper_s) = PAPER[f"{model}_lines"], PAPER_STD[model]
        rows.append(
            f"| {NAMES[model]} | {distance.mean():.2f} +- {distance.std():.2f} | "
            f"{smooth.mean():.3f} +- {smooth.std():.3f} | {mse.mean():.4f} +- {mse.std():.4f} | "
            f"{past} / {len(runs)} | "
            f"{paper['mean_distance'] * 1e3:.2f} +- {paper_d * 1e3:.2f} | "
            f"{paper['smoothness']:.2f} +- {paper_s:.2f} | {minutes:.1f} min | "
            f"{'; '.join(devices)} |"
        )
    rows += [
        "",
        f"Runs past the plateau: test MSE below {plateau:.4f}, the mean image's (the plateau "
        "where a model decodes about the mean image whatever the code, and scores Smoothness 0 "
        "because its frames do not change).",
    ]
    if stuck:
        rows += [
            "",
            "Not past the plateau in every run, so left out of the Smoothness comparison (a "
            f"plateau's constant frames score 0): {', '.join(stuck)}.",
        ]
    others = [m for m in means if m != "acai"]
    if "acai" in means and others:
        best_d = min(others, key=lambda m: means[m][0])
        leads_d = "yes" if means["acai"][0] < means[best_d][0] else "no"
        line = f"ACAI leads on Mean Distance: {leads_d} (best other: {NAMES[best_d]})"
        smooth_others = [m for m in others if m in past_all]
        if smooth_others:
            best_s = min(smooth_others, key=lambda m: means[m][1])
            leads_s = "yes" if means["acai"][1] < means[best_s][1] else "no"
            line += f"; on Smoothness: {leads_s} (best other: {NAMES[best_s]})"
        rows += ["", line + "."]
    return "\n".join(rows)


if __name__ == "__main__":
    main()
