"""The campaign's in-training statistics: test probe accuracy and test MSE against images seen.

    python benchmarks/campaign_figure.py                      # campaign/ -> its figure and table
    python benchmarks/campaign_figure.py --output fig.png --campaign other_campaign

Reads the ``evaluations`` that ``keras-latent campaign`` records every 65,536 images in each
run's ``checkpoint.json`` (finished or not), draws one figure of two panels (probe accuracy,
reconstruction MSE; one line per run, the paper's Table 2 figures for d_z 256 as reference
lines) and prints, per run, the images seen, the last evaluation and the paper's statistic:
the median of the last 20 evaluations (Table 2's figures are this median at 2^24 images).
"""

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from keras_latent import campaign, presets  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
# Berthelot et al. 2019, Table 2, MNIST single-layer classifier at d_z 256.
PAPER_D256 = {"acai": 0.9900, "ae": 0.9394}
LAST = 20
COLORS = {"acai": "C0", "ae": "C1"}


def read_evaluations(folder):
    """``{preset: evaluations}`` of the campaign's runs that have a checkpoint."""
    plan = campaign.read_plan(folder)
    return {
        run["preset"]: state.get("evaluations") or {}
        for run, state in campaign.run_states(folder, plan)
        if state is not None
    }


def summary(evaluations):
    """``{"images_seen", "last_accuracy", "last_mse", "median_last_20"}`` of one run (the
    median is None until there are 20 evaluations)."""
    accuracy = evaluations.get("probe_accuracy") or []
    return {
        "images_seen": (evaluations.get("images_seen") or [0])[-1],
        "evaluations": len(accuracy),
        "last_accuracy": accuracy[-1] if accuracy else None,
        "last_mse": (evaluations.get("reconstruction_mse") or [None])[-1],
        "median_last_20": float(np.median(accuracy[-LAST:])) if len(accuracy) >= LAST else None,
    }


def draw(runs, path):
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    for name, evaluations in runs.items():
        millions = np.asarray(evaluations.get("images_seen") or [], dtype="float64") / 1e6
        if not len(millions):
            continue
        model = presets.PRESETS[name][0]
        style = {"label": f"{name} ({presets.MODELS[model]['title']})", "color": COLORS.get(model)}
        left.plot(millions, 100 * np.asarray(evaluations["probe_accuracy"]), **style)
        right.plot(millions, evaluations["reconstruction_mse"], **style)
    for model, accuracy in PAPER_D256.items():
        left.axhline(100 * accuracy, ls="--", lw=1, color=COLORS[model])
        left.annotate(
            f"paper, {'ACAI' if model == 'acai' else 'AE'}: {100 * accuracy:.2f}%",
            (1.0, 100 * accuracy),
            xycoords=("axes fraction", "data"),
            ha="right",
            va="bottom",
            fontsize=8,
        )
    left.set(xlabel="images seen (millions)", ylabel="test accuracy (%)",
             title="in-training linear probe (MNIST, $d_z$ 256)")  # fmt: skip
    right.set(xlabel="images seen (millions)", ylabel="test MSE", yscale="log",
              title="test reconstruction MSE")  # fmt: skip
    for axes in (left, right):
        axes.set_xlim(0, 2**24 / 1e6)
        axes.grid(alpha=0.3)
        axes.legend(fontsize=8, loc="lower left" if axes is left else "upper right")
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--campaign", type=Path, default=REPO / "campaign")
    parser.add_argument(
        "--output", type=Path, default=REPO / "benchmarks" / "results" / "campaign_mnist.png"
    )
    args = parser.parse_args(argv)
    runs = read_evaluations(args.campaign)
    draw(runs, args.output)
    print("| run | images seen | evaluations | last probe accuracy | median of last 20 | "
          "last test MSE |\n|---|---|---|---|---|---|")  # fmt: skip
    for name, evaluations in runs.items():
        s = summary(evaluations)
        median = "-" if s["median_last_20"] is None else f"{100 * s['median_last_20']:.2f}%"
        last = "-" if s["last_accuracy"] is None else f"{100 * s['last_accuracy']:.2f}%"
        mse = "-" if s["last_mse"] is None else f"{s['last_mse']:.5f}"
        print(f"| {name} | {s['images_seen']:,} | {s['evaluations']} | {last} | {median} | {mse} |")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
