"""Model cards: the ``README.md`` of a preset folder, rendered from its ``metadata.json``.

A card gives the model, data and architecture, how to load it, how its weights were trained
(images seen, device, dates, sha256), the metrics measured on them with what each means (beside
the paper's figures, for a shipped preset), the settings they were measured with, and, where the
run recorded them, its evaluations during training with the paper's statistic (the median of
the last 20 in-training probe accuracies), and, where drawn, the interpolation grid of fixed
test pairs through its weights (:mod:`keras_latent.zoo_figures`).
"""

import json
import statistics
from pathlib import Path


def model_card(meta, generated=False, location=None):
    """The ``README.md`` model card of a preset, from its metadata.

    ``generated=True``: a shipped preset written by :func:`render` (``zoo_build``): titled with
    the preset's name, the paper's figures beside the measured metrics, and a footer saying the
    file is generated. Otherwise the card of a folder ``keras_latent.zoo.save_preset`` wrote
    (a user's preset or a ``keras-latent train`` run): titled ``meta["name"]`` (the folder's
    name), the data named by ``meta["dataset"]`` or "unknown", the preset it was built from
    (``meta["origin"]``), usage that loads ``location`` (the folder's path), and the measured
    metrics only: the paper's figures describe the paper's training, not this folder's.
    """
    name = meta.get("name") or "preset"
    model = meta.get("model") or {}
    data = meta.get("dataset")
    arch = meta.get("architecture") or {}
    recipe = meta.get("recipe") or {}
    lines = [f"# {name}", ""]
    if generated and meta.get("description"):
        lines += [f"{meta['description']}. {_sentence(model.get('summary', ''))}", ""]
    elif not generated:
        lines += [_saved_summary(meta), ""]
    rows = [("model", f"`{model.get('class', '?')}` (`keras_latent.models`)")]
    if not generated:
        built = _origin_text(meta.get("origin"))
        if built:
            rows.append(("built from", built))
    if data or not generated:
        rows.append(("dataset", _dataset_text(data or {})))
    if "image_shape" in arch:
        shape = " x ".join(str(v) for v in arch["image_shape"])
        rows.append(("images", f"{shape}, NHWC float32 in [-1, 1]"))
        latent = " x ".join(str(v) for v in arch.get("latent_shape", []))
        rows.append(
            (
                "architecture",
                f"depth {arch.get('depth')}, latent {latent} (d_z {arch.get('latent_size')})",
            )
        )
    if "num_classes" in (data or {}):
        probe = data["num_classes"]
        rows.append(("linear probe", f"{probe} classes" if probe else "none"))
    if "parameter_count" in meta:
        rows.append(("parameters", f"{meta['parameter_count']:,}"))
    if recipe:
        label = "training recipe" if generated else "optimizer on load"
        rows.append((label, _recipe_text(recipe)))
    lines += ["| | |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows), ""]
    if generated:
        load, note = f'"{name}"', "weights=False: same architecture, fresh weights"
    else:
        load, note = _load_argument(location, name), "this folder; weights=False: fresh weights"
    lines += [
        "## Usage",
        "",
        "```python",
        "import keras_latent as kl",
        "",
        f"model = kl.zoo.load({load})  # {note}",
        "frames = model.interpolate(x_a, x_b, steps=16)",
        "```",
        "",
        "## Weights",
        "",
    ]
    paper = meta.get("paper") if generated else None
    lines += _weights_text(meta.get("weights"), recipe.get("command"), paper, generated)
    target = name if generated else (str(location) if location is not None else None)
    lines += _evaluation_text((meta.get("weights") or {}).get("evaluation"), target)
    lines += _in_training_text(meta.get("weights"))
    lines += _interpolation_text(meta.get("weights"))
    if generated:
        lines += [
            "",
            "---",
            GENERATED_FOOTER,
        ]
    else:
        lines += [
            "",
            "---",
            "Written with this folder's `metadata.json` by `keras_latent.zoo.save_preset`.",
        ]
    lines.append("")
    return "\n".join(lines)


def _saved_summary(meta):
    """The first paragraph of a saved preset's card: its description, else what it is."""
    model = meta.get("model") or {}
    text = meta.get("description") or f"A `{model.get('class', '?')}` saved with keras-latent"
    summary = _sentence(model.get("summary", ""))
    return f"{text.rstrip('.')}." + (f" {summary}" if summary else "")


def _origin_text(origin):
    """``meta["origin"]`` in words: the preset whose architecture (and weights) it started from."""
    if not isinstance(origin, dict) or not origin.get("preset"):
        return None
    text = f"preset `{origin['preset']}`"
    weights = origin.get("weights")
    if weights == "trained":
        digest = origin.get("sha256")
        text += ": its architecture, fine-tuned from the preset's trained weights" + (
            f" (sha256 `{digest[:12]}...`)" if digest else ""
        )
    elif weights == "fresh":
        text += ": its architecture, with fresh weights (not the preset's)"
    else:
        text += ": its architecture"
    return text


def _dataset_text(data):
    """The card's dataset row: the data the metadata names, or "unknown"."""
    described = data.get("summary") or data.get("name")
    source = data.get("data")
    if described is None and source is None:
        return (
            "unknown (not recorded: `keras_latent.zoo.save_preset(model, folder, data=...)` "
            "records it)"
        )
    if source is None:
        return str(described)
    loader = f"`keras_latent.datasets.load({source!r})`"
    return f"{described} ({loader})" if described not in (None, source) else loader


def _load_argument(location, name):
    """The string literal that loads the folder ``location`` with ``kl.zoo.load``: a bare
    relative name gets ``./`` (a bare name is a shipped preset's name first)."""
    if location is None:
        return f'"./{name}"'
    text = str(location)
    if "/" not in text and not text.startswith("."):
        text = f"./{text}"
    return json.dumps(text)


def _sentence(text):
    text = text.strip()
    return f"{text[0].upper()}{text[1:]}." if text else ""


def _recipe_text(recipe):
    optimizer = recipe.get("optimizer", {})
    config = optimizer.get("config", {})
    settings = ", ".join(
        f"{k} {_value(v)}" for k, v in config.items() if v not in (None, False) and k != "name"
    )
    parts = [f"{optimizer.get('class_name', '?')} ({settings})"]
    if "batch_size" in recipe:
        parts.append(f"batch {recipe['batch_size']}")
    if "images" in recipe:
        parts.append(f"{recipe['images']:,} images ({recipe.get('steps', 0):,} steps)")
    return ", ".join(parts)


def _weights_text(weights, command, paper, paper_column=True):
    if not weights:
        text = ["Not trained yet: this preset ships its architecture and recipe only."]
        if command:
            text.append(f"Train it with `{command}`, or load it with `weights=False`.")
        text = [" ".join(text)]
    else:
        text = [
            "| | |",
            "|---|---|",
            *(
                f"| {key.replace('_', ' ')} | {_weights_cell(key, weights[key])} |"
                for key in (
                    "images_seen",
                    "drawing",
                    "backend",
                    "device",
                    "wall_time_s",
                    "date",
                    "keras_version",
                    "sha256",
                )
                if weights.get(key) is not None
            ),
        ]
    from keras_latent.presets import PAPER_KEYS

    metrics = (weights or {}).get("metrics") or {}
    figures = {
        (PAPER_STATISTICS[k] if PAPER_STATISTICS.get(k) in metrics else k): v
        for k, v in (paper or {}).items()
        if k not in PAPER_KEYS
    }
    if metrics or figures:
        if paper_column:
            text += ["", "| metric | measured | paper |", "|---|---|---|"]
        else:
            text += ["", "| metric | measured |", "|---|---|"]
        for key in list(metrics) + [k for k in figures if k not in metrics]:
            measured = _value(metrics[key]) if key in metrics else "-"
            paper_cell = f" {_value(figures.get(key, '-'))} |" if paper_column else ""
            text.append(f"| {key} | {measured} |{paper_cell}")
        if paper and paper.get("source"):
            text += ["", f"Paper figures: {paper['source']}{_provenance(paper)}."]
        legend = [f"`{key}`: {METRICS[key]}" for key in metrics if key in METRICS]
        if legend:
            text += ["", "Metrics, on the test split: " + "; ".join(legend) + "."]
    return text


def _evaluation_text(evaluation, target=None):
    """The card's lines on how its metrics were measured, from ``weights.evaluation`` (the
    frozen-latent probe's epochs, the K-means restarts, the command that ran): a table and how
    to repeat it with ``keras-latent evaluate TARGET``, which uses these settings unless told
    otherwise. ``[]`` where nothing is recorded."""
    if not isinstance(evaluation, dict) or not evaluation:
        return []
    rows = [
        (label, _value(evaluation[key]))
        for key, label in EVALUATION_SETTINGS.items()
        if evaluation.get(key) is not None
    ]
    if evaluation.get("command"):
        rows.append(("measured with", f"`{evaluation['command']}`"))
    text = ["", "Evaluation settings of these metrics:", "", "| | |", "|---|---|"]
    text += [f"| {label} | {value} |" for label, value in rows]
    if target is not None:
        text += [
            "",
            f"`keras-latent evaluate {target} --data-dir DIR` repeats this evaluation: it uses "
            "these settings unless `--probe-epochs` or `--kmeans-restarts` is given.",
        ]
    return text


def _in_training_text(weights):
    """The card's section on the evaluations recorded during training (``weights.evaluations``:
    the in-training probe's test accuracy and the test MSE by images seen), with the paper's
    statistic, the median of the last 20, and the figure ``weights.evaluations_figure`` where
    the folder holds one. ``[]`` where none were recorded."""
    evaluations = (weights or {}).get("evaluations") or {}
    accuracy = evaluations.get("probe_accuracy") or []
    seen = evaluations.get("images_seen") or []
    if not accuracy or len(seen) != len(accuracy):
        return []
    mse = evaluations.get("reconstruction_mse") or []
    every = f", every {seen[1] - seen[0]:,} images" if len(seen) > 1 else ""
    last = f"the last, at {seen[-1]:,} images: probe accuracy {_value(accuracy[-1])}" + (
        f", test MSE {_value(mse[-1])}" if len(mse) == len(accuracy) else ""
    )
    text = [
        "",
        "## During training",
        "",
        f"The linear probe trained alongside the autoencoder, and the reconstruction, were "
        f"scored on the test split {len(accuracy)} times during training{every}; {last}.",
    ]
    for median in training_statistic(evaluations).values():
        text[-1] += (
            f" The paper's Table 2 figure is the median of the last {STATISTIC_EVALUATIONS} "
            f"probe accuracies: here {_value(median)}."
        )
    figure = weights.get("evaluations_figure")
    if figure:
        text += ["", f"![in-training probe accuracy and test MSE against images seen]({figure})"]
    return text


def _interpolation_text(weights):
    """The card's section showing ``weights.interpolation_figure`` (the grid
    :mod:`keras_latent.zoo_figures` draws: its pairs, steps and command); ``[]`` where none."""
    figure = (weights or {}).get("interpolation_figure")
    if not isinstance(figure, dict) or not figure.get("file"):
        return []
    pairs = figure.get("pairs") or []
    shown = ", ".join(f"{a} to {b}" for a, b in pairs)
    data = figure.get("dataset", "test")
    if figure.get("drawing"):
        data += f" ({figure['drawing']} drawing)"
    text = [
        "",
        "## Interpolations",
        "",
        f"{figure.get('method', 'linear').capitalize()} interpolation in latent space between "
        f"{len(pairs)} fixed pairs of {data} {figure.get('split', 'test')} items (by index: "
        f"{shown}), {figure.get('steps')} decoded steps from t = 0 to 1, one pair a row, the "
        "inputs A and B in the outer columns. Every preset of this dataset shows the same pairs.",
    ]
    if figure.get("command"):
        text[-1] += f" Drawn by `{figure['command']}`."
    return text + ["", f"![{data} test pairs interpolated in latent space]({figure['file']})"]


def figure_files(weights):
    """The names of the figure files a card shows (``weights.evaluations_figure``, the
    ``file`` of ``weights.interpolation_figure``), for whoever copies the card elsewhere."""
    weights = weights if isinstance(weights, dict) else {}
    interpolation = weights.get("interpolation_figure")
    names = [weights.get("evaluations_figure")]
    names.append(interpolation.get("file") if isinstance(interpolation, dict) else None)
    return [name for name in names if isinstance(name, str) and Path(name).name == name]


def training_statistic(evaluations):
    """The paper's Table 2 statistic from the in-training ``evaluations``: the median of the
    last 20 probe test accuracies, ``{"probe_accuracy_median_last_20": value}``, where there
    are that many; else ``{}``."""
    accuracies = (evaluations or {}).get("probe_accuracy") or []
    if len(accuracies) < STATISTIC_EVALUATIONS:
        return {}
    median = statistics.median(accuracies[-STATISTIC_EVALUATIONS:])
    return {PAPER_STATISTICS["probe_accuracy"]: float(median)}


GENERATED_FOOTER = (
    "Generated from `metadata.json` by keras-latent (`python -m keras_latent.zoo_build`); "
    "do not edit by hand."
)
"""The last line of a shipped preset's generated card."""


STATISTIC_EVALUATIONS = 20
"""The paper's Table 2 statistic is the median of this many last in-training evaluations."""


PAPER_STATISTICS = {"probe_accuracy": f"probe_accuracy_median_last_{STATISTIC_EVALUATIONS}"}
"""A paper figure that is a statistic over training, and the measured metric computing it: a
card puts the paper's figure beside that metric where the weights record it (else beside the
final value)."""


EVALUATION_SETTINGS = {
    "probe_epochs": "frozen-latent probe epochs",
    "kmeans_restarts": "K-means restarts",
}
"""The settings of ``weights.evaluation`` a model card shows, with their labels."""


def _provenance(paper):
    """Where a card's paper figures come from, and whether they were checked."""
    quoted = f", as quoted in {paper['quoted_from']}" if paper.get("quoted_from") else ""
    if paper.get("checked"):
        return f"{quoted}, checked against the paper's text"
    return f"{quoted}; not yet checked against the paper's text, which could not be reached"


def _weights_cell(key, value):
    if key == "drawing" and value != "official":
        return (
            f"{value}: these weights were trained and are scored on the {value} lines drawing, "
            "not the official one the recipe now uses (`keras_latent.datasets.lines.draw`)"
        )
    return _value(value)


METRICS = {
    "mean_distance": "lines Mean Distance of 256 test-pair interpolations (lower is better)",
    "smoothness": "lines Smoothness of the same interpolations (lower is better)",
    "reconstruction_mse": "mean squared reconstruction error, pixels in [-1, 1]",
    "probe_accuracy": "the linear probe trained alongside the autoencoder on its "
    "stop-gradient latent (the paper's protocol)",
    "probe_accuracy_median_last_20": "the paper's Table 2 statistic: the median test accuracy "
    "of that probe over its last 20 evaluations during training",
    "linear_probe_accuracy": "a fresh linear probe trained on the final frozen latents",
    "clustering_accuracy": "K-means (10 clusters) on the whitened latents, Hungarian-matched "
    "to the labels",
    "frechet_classifier_distance": "Fréchet distance between test images and decoded samples "
    "of a 10-component Gaussian mixture on the training latents, in the features of the "
    "shipped MNIST classifier (not an FID)",
}
"""What each metric a model card may show means."""


def _value(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"`{value}`" if isinstance(value, str) and len(value) == 64 else str(value)
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.4g}"
