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

from keras_latent import campaign, cards, plots, presets

REPO = Path(__file__).resolve().parents[1]


def read_evaluations(folder):
    """``{preset: evaluations}`` of the campaign's runs, in the plan's order (``{}`` for a
    run not started)."""
    plan = campaign.read_plan(folder)
    return {
        run["preset"]: (state or {}).get("evaluations") or {}
        for run, state in campaign.run_states(folder, plan)
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
        "median_last_20": cards.training_statistic(evaluations).get(
            cards.PAPER_STATISTICS["probe_accuracy"]
        ),
    }


def draw(runs, path):
    """The figure of ``{preset: evaluations}``, with the paper's Table 2 probe figure of each
    run's preset (``presets.PAPER``) as a reference line."""
    titles = {name: presets.MODELS[presets.PRESETS[name][0]]["title"] for name in runs}
    references = {
        f"paper, {name}": presets.PAPER[name]["probe_accuracy"]
        for name in runs
        if "probe_accuracy" in presets.PAPER.get(name, {})
    }
    plots.save_training_curves(
        {f"{name} ({titles[name]})": evaluations for name, evaluations in runs.items()}, path,
        references=references, total_images=2**24, title="MNIST, $d_z$ 256",
    )  # fmt: skip


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
