"""Publish a trained run folder as a shipped preset with weights.

    python benchmarks/publish_run.py runs/measure8k/acai_lines acai_lines

Loads the run (``config.json``, ``model.weights.h5``, ``metrics.json`` written by
``keras-latent train`` and, for image datasets, scored by ``keras-latent evaluate``), checks
that its architecture is the preset's, and writes ``zoo/PRESET`` with
:func:`keras_latent.zoo.save_preset`, recording in ``metadata.json`` (``weights``) how the run
was trained and the metrics measured on it, then regenerates its ``metadata.json`` and model
card as ``python -m keras_latent.zoo_build`` does (the shipped preset's, with the paper's
figures). A run that recorded evaluations during training (``keras-latent campaign``, or
``train --evaluate-every``) keeps them in the preset: the lists, the paper's statistic (the
median of the last 20 probe accuracies) among the metrics, and their figure,
``in_training.png``, which the card shows.
"""

import argparse
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from keras_latent import cards, plots, presets, saving, zoo
from keras_latent.files import read_json

FIGURE = "in_training.png"

TRAINING_KEYS = (
    "images_seen",
    "steps",
    "batch_size",
    "seed",
    "optimizer",
    "backend",
    "keras_version",
    "device",
    "fit_time_s",
    "wall_time_s",
    "finished",
    "segments",  # one per train call: steps, backend, device, dates, fit and wall time
)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", type=Path, help="run folder written by keras-latent train")
    parser.add_argument("preset", help="shipped preset name, e.g. acai_lines")
    parser.add_argument("--zoo", type=Path, default=presets.ZOO_DIR, help="zoo folder")
    args = parser.parse_args(argv)

    presets.check_name(args.preset)
    model = saving.load_model(args.run, compile=False)
    if architecture(presets.build(args.preset)) != architecture(model):
        raise SystemExit(f"{args.run} does not hold the architecture of preset {args.preset}")
    record = read_json(args.run / "metrics.json")
    training = record["training"]
    weights = {key: training[key] for key in TRAINING_KEYS if key in training}
    weights["date"] = training.get("finished") or finished_date(args.run)
    evaluations = training.get("evaluations") or {}
    weights["metrics"] = {**measured(record), **cards.training_statistic(evaluations)}
    if record.get("evaluation"):
        weights["evaluation"] = record["evaluation"]
    weights["command"] = (
        f"keras-latent train {args.preset} --steps {training['steps']} "
        f"--batch-size {training['batch_size']} --seed {training['seed']}"
    )
    with tempfile.TemporaryDirectory(prefix="publish-") as tmp:
        files = {}
        if evaluations.get("probe_accuracy"):
            weights["evaluations"] = evaluations
            weights["evaluations_figure"] = FIGURE
            files[FIGURE] = draw_evaluations(args.preset, evaluations, Path(tmp) / FIGURE)
        path = zoo.save_preset(
            model, args.zoo / args.preset, metadata={"weights": weights}, files=files
        )
    # The zoo's metadata and card (the paper's figures) are the generator's; weights are kept.
    presets.build_presets(args.zoo, names=[args.preset])
    print(f"wrote {path}")


def draw_evaluations(preset, evaluations, path):
    """The run's in-training probe accuracy and test MSE against images seen, with the
    paper's probe figure for the preset (``presets.PAPER``) as a reference line."""
    paper = (presets.PAPER.get(preset) or {}).get("probe_accuracy")
    return plots.save_training_curves(
        {preset: evaluations}, path,
        references={"paper": paper} if paper is not None else None,
        title=f"{preset}: evaluations on the test split during training",
    )  # fmt: skip


def finished_date(run):
    """When the run was finalised: the time ``checkpoint.json`` was marked finished."""
    stamp = (run / "checkpoint.json").stat().st_mtime
    return datetime.fromtimestamp(stamp, UTC).isoformat(timespec="seconds")


def measured(record):
    """The run's scores: the lines metrics, or the test-set metrics of ``keras-latent
    evaluate`` (reconstruction MSE, probe and clustering accuracy)."""
    if "lines" in record:
        return {key: record["lines"][key] for key in ("mean_distance", "smoothness")}
    test = record.get("test", {})
    return {k: v for k, v in test.items() if k != "test_images" and isinstance(v, (int, float))}


def architecture(model):
    """The model's Keras config without what a run may change (its name and seed)."""
    config = dict(saving.model_config(model)["config"])
    config.pop("name"), config.pop("seed")
    return config


if __name__ == "__main__":
    main()
