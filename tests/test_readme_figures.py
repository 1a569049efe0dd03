"""Figures quoted in README.md and benchmarks/README.md against the JSON records they came from.

Each test reads a record under ``benchmarks/results/``, formats the value as the README quotes
it and checks that the README says exactly that, in the table row (found by its first cells)
or the sentence it belongs to. Pure file reading: no Keras, no data, no training.
"""

import ast
import json
import re
from pathlib import Path

import numpy as np
import pytest

from benchmarks.table1_lines import NAMES

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
README = ROOT / "README.md"
BENCHMARKS = ROOT / "benchmarks" / "README.md"

TABLE1_NAMES = NAMES  # Table 1's row names, by the records' file prefix


def record(relative):
    """The JSON record ``benchmarks/results/<relative>``."""
    path = RESULTS / relative
    assert path.exists(), f"record {path.relative_to(ROOT)} is missing"
    return json.loads(path.read_text())


def card_weights(preset):
    """A shipped preset's ``weights`` entry (``zoo/<preset>/metadata.json``) and that path."""
    source = f"zoo/{preset}/metadata.json"
    return json.loads((ROOT / source).read_text())["weights"], source


def text(path):
    """A document's text."""
    return path.read_text()


def flat(value):
    """``value`` with every run of whitespace made one space (prose wraps lines anywhere)."""
    return " ".join(value.split())


def section(document, heading):
    """The part of ``document`` from the heading line starting with ``heading`` to the next
    heading of the same or a higher level."""
    level = len(heading) - len(heading.lstrip("#"))
    lines = document.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith(heading)]
    assert starts, f"no heading {heading!r}"
    body = []
    for line in lines[starts[0] + 1 :]:
        match = re.match(r"(#+) ", line)
        if match and len(match.group(1)) <= level:
            break
        body.append(line)
    return "\n".join(body)


def table_row(document, *first_cells):
    """The cells of the first Markdown table row whose first cells are ``first_cells``."""
    for line in document.splitlines():
        if not line.startswith("|"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells[: len(first_cells)] == list(first_cells):
            return cells
    raise AssertionError(f"no table row starting with {' | '.join(first_cells)!r}")


def assert_cell(row, index, expected, figure, source):
    """Cell ``index`` of ``row`` reads ``expected``, else a message naming figure and record."""
    assert row[index] == expected, (
        f"{figure}: the record {source} gives {expected!r}, the README's row "
        f"{' | '.join(row[:2])!r} says {row[index]!r}"
    )


def assert_quoted(expected, document, figure, source):
    """``expected`` appears in ``document`` (whitespace-insensitive)."""
    assert flat(expected) in flat(document), (
        f"{figure}: the record {source} gives {expected!r}, which the README does not quote"
    )


def short_exponent(value):
    """``1799.2`` as ``1.80e3``: the README's short scientific notation."""
    mantissa, exponent = f"{value:.2e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def population_mean_std(values):
    """Mean and population standard deviation, as table1_lines.py reports them."""
    values = np.asarray(values, dtype=float)
    return values.mean(), values.std()


# ACAI against the plain autoencoder on lines, 8000 steps (README table).
@pytest.mark.parametrize(("name", "row_name"), [("acai", "ACAI"), ("ae", "Autoencoder")])
def test_lines_8000_steps_table(name, row_name):
    source = f"lines_{name}_8000steps.json"
    result = record(source)
    row = table_row(section(text(README), "### ACAI against the plain autoencoder"), row_name)
    training = result["training"]
    assert_cell(row, 1, f"{training['images_seen']:,}", f"{row_name} images seen", source)
    distance = f"{result['lines']['mean_distance'] * 1e3:.2f}"
    assert_cell(row, 2, distance, f"{row_name} Mean Distance (1e-3)", source)
    smoothness = f"{result['lines']['smoothness']:.3f}"
    assert_cell(row, 3, smoothness, f"{row_name} Smoothness", source)
    minutes = f"{training['fit_time_s'] / 60:.1f} min"
    assert_cell(row, 6, minutes, f"{row_name} fit time", source)


@pytest.mark.parametrize(("name", "preset"), [("acai", "acai_lines"), ("ae", "ae_lines")])
def test_lines_presets_in_zoo_table(name, preset):
    source = f"lines_{name}_8000steps.json"
    lines = record(source)["lines"]
    row = table_row(section(text(README), "## Model zoo"), f"`{preset}`")
    quoted = (
        f"Mean Distance {lines['mean_distance'] * 1e3:.2f}e-3, Smoothness {lines['smoothness']:.3f}"
    )
    message = f"{preset} scores: the record {source} gives {quoted!r}, the README says {row[2]!r}"
    assert quoted in row[2], message


def test_lines_2000_steps_sentence():
    acai, ae = record("lines_acai_2000steps.json"), record("lines_ae_2000steps.json")

    def scores(result):
        lines = result["lines"]
        return f"{lines['mean_distance'] * 1e3:.2f}e-3 / {lines['smoothness']:.3f}"

    quoted = f"gave ACAI {scores(acai)} and the autoencoder {scores(ae)}"
    assert_quoted(quoted, text(README), "lines at 2000 steps", "lines_{acai,ae}_2000steps.json")


def test_lines_2000_steps_device_claim():
    """The README names a CPU for the 2000-step run only as far as its records do."""
    acai = record("lines_acai_2000steps.json")["training"]["device"]
    ae = record("lines_ae_2000steps.json")["training"]["device"]
    assert "unknown cpu" in acai and "AMD EPYC" in ae, (acai, ae)
    assert_quoted(
        "the autoencoder's record names a 2-core AMD EPYC VM, the ACAI run's record does not "
        "name its CPU",
        text(README),
        "2000-step device",
        "lines_{acai,ae}_2000steps.json",
    )


@pytest.mark.parametrize(("heading", "folder", "steps", "seeds"), [
    ("### Recorded: 2000 steps", "table1", 2000, (0, 1, 2)),
    ("### Recorded: 4000 steps", "table1", 4000, (0,)),
    ("### Recorded on the official drawing: 2000 steps", "table1_official", 2000, (0, 1, 2)),
])  # fmt: skip
@pytest.mark.parametrize("model", sorted(TABLE1_NAMES))
def test_table1_rows(heading, folder, steps, seeds, model):
    sources = [f"{folder}/{model}_{steps}steps_seed{seed}.json" for seed in seeds]
    runs = [record(source) for source in sources]
    row = table_row(section(text(BENCHMARKS), heading), TABLE1_NAMES[model])
    figure = f"Table 1 {TABLE1_NAMES[model]} at {steps} steps"
    columns = [
        (1, [1e3 * r["lines"]["mean_distance"] for r in runs], 2, "Mean Distance (1e-3)"),
        (2, [r["lines"]["smoothness"] for r in runs], 3, "Smoothness"),
        (3, [r["test_reconstruction_mse"] for r in runs], 4, "test MSE"),
    ]
    for index, values, digits, name in columns:
        mean, std = population_mean_std(values)
        expected = f"{mean:.{digits}f} +- {std:.{digits}f}"
        assert_cell(row, index, expected, f"{figure}, {name}", ", ".join(sources))


@pytest.mark.parametrize("model", ["acai", "ae"])
def test_table1_mixed_bfloat16_rows(model):
    sources = [f"table1/{model}_2000steps_mixed_bfloat16_seed{s}.json" for s in (0, 1, 2)]
    runs = [record(source) for source in sources]
    heading = "### Mixed bfloat16 against float32 under the same budget"
    row = table_row(section(text(BENCHMARKS), heading), model.upper(), "mixed_bfloat16")
    mean, std = population_mean_std([1e3 * r["lines"]["mean_distance"] for r in runs])
    expected = f"{mean:.2f} +- {std:.2f}"
    assert_cell(row, 2, expected, f"{model} bfloat16 Mean Distance", ", ".join(sources))


ECCENTRIC_ROWS = {
    "ae": "plain AE",
    "rae": "RAE-L2",
    "irmae": "IRMAE",
    "eccentric_0.1": "eccentric, weight 0.1",
    "eccentric_0.01": "eccentric, weight 0.01",
}


@pytest.mark.parametrize("key", sorted(ECCENTRIC_ROWS))
def test_eccentric_mnist_rows(key):
    source = "eccentric_mnist_2000steps.json"
    result = record(source)["results"][key]
    row = table_row(section(text(BENCHMARKS), "### Eccentric regularization"), ECCENTRIC_ROWS[key])
    figure = f"eccentric_mnist {ECCENTRIC_ROWS[key]}"
    assert_cell(row, 1, f"{result['reconstruction_mse']:.4f}", f"{figure} test MSE", source)
    assert_cell(row, 2, short_exponent(result["eccentricity"]), f"{figure} eccentricity", source)
    assert_cell(row, 3, str(result["latent_rank"]), f"{figure} latent rank", source)
    assert_cell(row, 4, f"{100 * result['probe_accuracy']:.2f}%", f"{figure} probe", source)
    clustering = f"{100 * result['clustering_accuracy']:.2f}%"
    assert_cell(row, 5, clustering, f"{figure} clustering", source)
    assert_cell(row, 6, f"{result['frechet_distance']:.1f}", f"{figure} Fréchet", source)
    minutes = f"{result['training']['fit_time_s'] / 60:.1f} min"
    assert_cell(row, 7, minutes, f"{figure} fit time", source)


@pytest.mark.parametrize("preset", ["acai_mnist", "ae_mnist", "acai_mnist_dz32", "ae_mnist_dz32"])
def test_mnist_representation_rows(preset):
    source = f"mnist/{preset}_3000steps.json"
    test = record(source)["test"]
    heading = "### ACAI and the plain autoencoder on MNIST"
    row = table_row(section(text(BENCHMARKS), heading), preset)
    alongside = f"{100 * test['probe_accuracy']:.2f}%"
    assert_cell(row, 3, alongside, f"{preset} probe alongside", source)
    frozen = f"{100 * test['linear_probe_accuracy']:.2f}%"
    assert_cell(row, 5, frozen, f"{preset} frozen probe", source)
    clustering = f"{100 * test['clustering_accuracy']:.2f}%"
    assert_cell(row, 6, clustering, f"{preset} clustering", source)
    assert_cell(row, 7, f"{test['reconstruction_mse']:.4f}", f"{preset} test MSE", source)
    frechet = test.get("frechet_classifier_distance")
    expected = "-" if frechet is None else f"{frechet:.1f}"
    assert_cell(row, 8, expected, f"{preset} Fréchet", source)


@pytest.mark.parametrize(
    "preset", ["acai_mnist", "ae_mnist", "eccentric_mnist", "acai_fashion_mnist"]
)
def test_mnist_presets_in_zoo_table(preset):
    """The README's zoo table quotes each image preset's card (``weights.metrics``)."""
    weights, source = card_weights(preset)
    test = weights["metrics"]
    row = table_row(section(text(README), "## Model zoo"), f"`{preset}`")
    quoted = (
        f"frozen-latent probe {100 * test['linear_probe_accuracy']:.2f}%, clustering "
        f"{100 * test['clustering_accuracy']:.2f}%, MSE {test['reconstruction_mse']:.4f}"
    )
    if "frechet_classifier_distance" in test:
        quoted += f", Fréchet (classifier) {test['frechet_classifier_distance']:.1f}"
    message = f"{preset} scores: {source} gives {quoted!r}, the README says {row[2]!r}"
    assert row[2] == quoted, message


def test_evaluate_time():
    source = "evaluate_acai_mnist.json"
    result = record(source)
    (run,) = result["commands"][0]["runs"]
    seconds = next(iter(result["attached"].values()))["evaluation"]["seconds"]
    body = section(text(BENCHMARKS), "### Time of `keras-latent evaluate`")
    assert_quoted(f"**{run['seconds']:.0f} s** in all", body, "evaluate's time", source)
    labels = {"test images": "test images (encode, decode, probe alongside)"}
    for step, value in seconds.items():
        row = table_row(body, labels.get(step, step))
        assert_cell(row, 1, f"{value:.1f}", step, source)
    readme = f"{seconds['clustering']:.0f} s of `evaluate acai_mnist`'s {run['seconds']:.0f} s"
    assert_quoted(readme, text(README), "K-means' share", source)
    timed = dict(
        line.strip().split(": ", 1) for line in run["output_tail"] if line.startswith("\t")
    )  # /usr/bin/time -v's report
    user, system = (float(timed[f"{kind} time (seconds)"]) for kind in ("User", "System"))
    cpu = f"{user:.0f} s of user and {system:.0f} s of system CPU time"
    assert_quoted(cpu, body, "evaluate's CPU time", source)
    test = next(iter(result["attached"].values()))["test"]
    accuracy = f"clustering accuracy {100 * test['clustering_accuracy']:.2f}%"
    assert_quoted(accuracy, body, "evaluate's clustering accuracy", source)


def percent(value):
    return f"{100 * value:.2f}%"


CAMPAIGN_HEADING = "### The campaign: `acai_mnist` and `ae_mnist`"
CAMPAIGN_ROWS = (
    ("probe trained alongside: median of the last 20 test accuracies (Table 2's statistic)",
     "probe_accuracy_median_last_20", percent),
    ("the same probe, last evaluation", "probe_accuracy", percent),
    ("frozen-latent probe (50 epochs, the fast protocol)", "linear_probe_accuracy", percent),
    ("clustering (1000 K-means restarts, the paper's)", "clustering_accuracy", percent),
    ("test MSE (pixels in [-1, 1])", "reconstruction_mse", lambda v: f"{v:.4f}"),
    ("Fréchet classifier distance (10-component mixture samples)",
     "frechet_classifier_distance", lambda v: f"{v:.2f}"),
)  # fmt: skip


@pytest.mark.parametrize("column, preset", [(1, "acai_mnist"), (2, "ae_mnist")])
def test_campaign_section(column, preset):
    """The campaign section's table quotes each finished run's card (its column), and the
    prose quotes the spread of its last 20 in-training evaluations."""
    weights, source = card_weights(preset)
    metrics, evaluations = weights["metrics"], weights["evaluations"]
    assert weights["images_seen"] == 2**24, source
    body = section(text(BENCHMARKS), CAMPAIGN_HEADING)
    for first_cell, key, quoted in CAMPAIGN_ROWS:
        expected = quoted(metrics[key])
        assert_cell(table_row(body, first_cell), column, expected, f"{preset}: {key}", source)
    last_20 = evaluations["probe_accuracy"][-20:]
    spread = f"{100 * min(last_20):.2f}-{100 * max(last_20):.2f}%"
    assert_quoted(spread, body, f"{preset}: the last 20 evaluations' range", source)


def test_campaign_acai_reaches_99_percent():
    """The first in-training evaluation at which ACAI's probe reached 99%."""
    weights, source = card_weights("acai_mnist")
    evaluations = weights["evaluations"]
    body = section(text(BENCHMARKS), CAMPAIGN_HEADING)
    first = next(
        images
        for images, accuracy in zip(evaluations["images_seen"], evaluations["probe_accuracy"])
        if accuracy >= 0.99
    )
    assert_quoted(f"{first:,} images", body, "the first evaluation at 99%", source)


PAGE_FAULT_COLUMNS = ("minor_faults", "user_s", "system_s", "wall_s")


@pytest.mark.parametrize(
    "source, same, columns, labels",
    [
        ("page_faults_kmeans.json", "same_clustering", 3,
         {"after keep_freed_memory()": "after `keep_freed_memory()`"}),
        ("page_faults_gmm.json", "same_mixture", 4,
         {"inside heap_allocations()": "inside `heap_allocations()`"}),
    ],
)  # fmt: skip
def test_page_faults_tables(source, same, columns, labels):
    """K-means' and the mixture fit's page faults and times, before and after the allocator's
    settings, and that both runs computed the same thing."""
    result = record(source)
    assert result[same] and result.get("set", True), source  # kmeans: the settings took
    body = section(text(BENCHMARKS), "### Time of `keras-latent evaluate`")
    for run in result["runs"]:
        row = table_row(body, labels.get(run["case"], run["case"]))
        for index, key in enumerate(PAGE_FAULT_COLUMNS[:columns], start=1):
            expected = f"{run[key]:,}" if key == "minor_faults" else f"{run[key]:.2f}"
            assert_cell(row, index, expected, f"{run['case']}: {key}", source)


@pytest.mark.parametrize("preset", ["acai_mnist", "ae_mnist", "eccentric_mnist"])
def test_clustering_optima_rows(preset):
    source = f"clustering_optima/{preset}.json"
    result = record(source)
    row = table_row(section(text(BENCHMARKS), "### K-means optima"), preset)

    def span(pair):
        return f"{100 * pair[0]:.2f}-{100 * pair[1]:.2f}%"

    near = result["within_0.1pct_of_best"]
    assert_cell(row, 1, f"{100 * result['inertia_spread']:.2f}%", "inertia spread", source)
    assert_cell(row, 2, span(result["accuracy_range"]), "accuracy range", source)
    assert_cell(row, 3, str(near["restarts"]), "restarts near the best", source)
    assert_cell(row, 4, span(near["accuracy_range"]), "their accuracy", source)
    best = f"{100 * result['best_inertia_accuracy']:.2f}%"
    assert_cell(row, 5, best, "lowest-inertia accuracy", source)
    assert len(result["restarts"]) == 20


@pytest.mark.parametrize("case", [0, 1])
def test_clustering_speed_rows(case):
    source = "clustering_speed.json"
    result = record(source)["cases"][case]
    same, paper = result["same_restarts"], result["paper_restarts"]
    first = f"{result['points']:,} x {result['dimensions']}"
    row = table_row(section(text(BENCHMARKS), "### K-means at 1000 restarts"), first)
    assert_cell(row, 1, f"{same['keras_latent_s']:.1f} s", f"K-means {first} keras-latent", source)
    assert_cell(row, 2, f"{same['sklearn_s']:.1f} s", f"K-means {first} scikit-learn", source)
    assert_cell(row, 3, f"{same['speedup']:.1f}x", f"K-means {first} speed-up", source)
    thousand = f"{paper['keras_latent_s']:.0f} s"
    assert_cell(row, 4, thousand, f"K-means {first} 1000 restarts", source)
    extrapolated = f"~{round(paper['sklearn_s_extrapolated'], -1):,.0f} s"
    assert_cell(row, 5, extrapolated, f"K-means {first} scikit-learn 1000", source)


SPEED_ROWS = {
    "TensorFlow `fit`": ("tensorflow", "fit"),
    "hand-written `tf.function` loop": ("tensorflow", "tf_function"),
    "PyTorch backend `fit`": ("torch", "fit"),
    "hand-written PyTorch eager loop": ("torch", "torch_eager"),
    "JAX `fit`": ("jax", "fit"),
}


def best_rates(results, model):
    """Best images/s over the repeats, by (backend, runner, policy), for one model."""
    best = {}
    for result in results:
        if result.get("model") == model and "images_per_s" in result:
            key = (result["backend"], result["runner"], result["policy"])
            best[key] = max(best.get(key, 0.0), result["images_per_s"])
    return best


@pytest.mark.parametrize("row_name", sorted(SPEED_ROWS))
def test_speed_table(row_name):
    source = "throughput_xeon_amx_matmul_150steps.json"
    best = best_rates(record(source)["results"], "acai")
    row = table_row(section(text(README), "## Speed"), row_name)
    backend, runner = SPEED_ROWS[row_name]
    for index, policy in ((1, "float32"), (2, "mixed_bfloat16")):
        expected = f"{best[backend, runner, policy]:.0f}"
        assert_cell(row, index, expected, f"README speed table {row_name} {policy}", source)


def test_pythae_range():
    sources = sorted(path.name for path in RESULTS.glob("throughput_*150steps*.json"))
    ratios = [record(s)["ratios"]["best_fit_fp32_over_pythae/ae"] for s in sources]
    assert len(ratios) == 7, sources
    quoted = f"trains {min(ratios):.2f}-{max(ratios):.2f}x faster than pythae's trainer"
    assert_quoted(quoted, text(README), "AE fit against pythae", ", ".join(sources))


def test_half_precision_slowdowns():
    source = "throughput_zen3_avx2_half_precision_20steps.json"
    best = best_rates(record(source)["results"], "acai")
    runners = [("tensorflow", "fit"), ("tensorflow", "tf_function"), ("torch", "fit")]
    runners.append(("torch", "torch_eager"))

    def slowdowns(policy):
        found = [(b, r) for b, r in runners if (b, r, policy) in best]
        return [best[b, r, "float32"] / best[b, r, policy] for b, r in found]

    bf16, fp16 = slowdowns("mixed_bfloat16"), slowdowns("mixed_float16")
    quoted = f"{min(bf16):.1f}-{max(bf16):.1f}x *slower*"
    assert_quoted(f"ACAI {quoted} than float32", text(README), "bfloat16 slowdown", source)
    assert_quoted(f"ACAI trains {quoted} in", text(BENCHMARKS), "bfloat16 slowdown", source)
    quoted = f"{min(fp16):.1f}-{max(fp16):.1f}x slower in `mixed_float16`"
    assert_quoted(quoted, text(BENCHMARKS), "float16 slowdown", source)


def test_onednn_speedups():
    sources = {
        state: [f"throughput_zen3_onednn_{state}_{n}.json" for n in (1, 2, 3)]
        for state in ("off", "on")
    }
    rates = {state: {} for state in sources}
    for state, names in sources.items():
        for name in names:
            for result in record(name)["results"]:
                rates[state].setdefault(result["model"], []).append(result["images_per_s"])
    heading = "### Latest: a CPU without AVX-512 VNNI"
    document = section(text(BENCHMARKS), heading)
    ratios = []
    for model in rates["on"]:
        ratio = max(rates["on"][model]) / max(rates["off"][model])
        ratios.append(ratio)
        row = table_row(document, model)
        assert_cell(row, 3, f"{ratio:.2f}", f"oneDNN on / off, {model}", ", ".join(sources["on"]))
    quoted = f"{min(ratios):.1f}-{max(ratios):.1f}x slower without them"
    assert_quoted(quoted, text(README), "oneDNN speed-up", "throughput_zen3_onednn_*.json")


def test_fine_tune_sentence():
    source = "fine_tune_acai_mnist.json"
    by_rate = record(source)["test_mse_by_learning_rate"]
    high, low = by_rate["0.0001"], by_rate["1e-05"]
    quoted = (
        f"went from {high[0]:.4f} to {high[1]:.4f} after 10 steps at the recipe's 1e-4 and was "
        f"back to {high[-1]:.4f} after 40; at 1e-5 it stayed within "
        f"{min(low[1:]):.4f}-{max(low[1:]):.4f}"
    )
    assert_quoted(quoted, text(README), "fine-tuning test MSE", source)


def test_quickstart_times():
    source = "quickstart.json"
    quickstart = record(source)
    install, train = (command["runs"][0]["seconds"] for command in quickstart["commands"])
    weights = quickstart["attached"]["runs/acai_lines/metadata.json"]["weights"]
    quoted = (
        f"`pip install .` {install:.0f} s, then `keras-latent train acai_lines --steps 200` "
        f"{train:.0f} s, of which {weights['fit_time_s']:.0f} s\ntraining "
        f"({weights['images_per_second']:.0f} images/s)"
    )
    assert_quoted(quoted, text(README), "the quickstart's times", source)


def test_probe_epochs_table():
    source = "probe_epochs.json"
    rows = record(source)["rows"]
    body = section(text(BENCHMARKS), "### Linear probe epochs")
    for result in rows:
        row = table_row(body, str(result["epochs"]))
        figure = f"probe at {result['epochs']} epochs"
        assert_cell(row, 1, f"{result['steps']:,}", figure, source)
        assert_cell(row, 2, f"{100 * result['train_accuracy']:.2f}%", figure, source)
        assert_cell(row, 3, f"{100 * result['test_accuracy']:.2f}%", figure, source)
        assert_cell(row, 4, f"{result['fit_time_s']:.0f} s", figure, source)
    assert [result["epochs"] for result in rows] == [10, 50, 100]


def test_eccentric_weight_seeds():
    sources = sorted((RESULTS / "eccentric_weight").glob("seed*.json"))
    assert sources, "no record under benchmarks/results/eccentric_weight/"
    readme = text(README)
    rises = []
    for path in sources:
        result = json.loads(path.read_text())
        strong, weak = (result["weights"][w]["top_to_median"] for w in ("1.0", "0.01"))
        quoted = f"from {strong:.2f} to {weak:.2f} (seed {result['seed']})"
        assert_quoted(quoted, readme, "eccentric weight", path.relative_to(RESULTS))
        rises.append(weak / strong)
    span = f"{min(rises):.2f}-{max(rises):.2f}x in all six seeds"
    assert_quoted(span, readme, "eccentric weight's rise", "eccentric_weight/seed*.json")
    assert len(rises) == 6


def test_table1_drawing_comparison_at_seed_0():
    """The official drawing's seed-0 scores of the AE and ACAI, beside the centred drawing's."""
    body = section(text(BENCHMARKS), "### Recorded on the official drawing: 2000 steps")

    def scores(folder, model):
        lines = record(f"{folder}/{model}_2000steps_seed0.json")["lines"]
        return f"{lines['mean_distance'] * 1e3:.2f}e-3 / {lines['smoothness']:.3f}"

    for model, name in (("ae", "AE"), ("acai", "ACAI")):
        quoted = f"{name} {scores('table1_official', model)} against {scores('table1', model)}"
        assert_quoted(quoted, body, f"{name} on both drawings", "table1*/")


def test_tutorials_quick_times():
    """The README's quick-mode tutorial times: each tutorial's fastest and slowest run."""
    source = "tutorials_quick.json"
    result = record(source)
    assert result["environment"]["KERAS_LATENT_TUTORIAL_QUICK"] == "1"
    for index, command in enumerate(result["commands"], 1):
        assert command["command"].startswith(f"python tutorials/0{index}_"), command["command"]
        assert all(run["exit_status"] == 0 for run in command["runs"]), command["command"]
        seconds = [run["seconds"] for run in command["runs"]]
        quoted = f"{min(seconds):.0f}-{max(seconds):.0f} s ({index}"
        assert_quoted(quoted, text(README), f"tutorial {index}'s quick time", source)


FULL_MODE = "tutorials_full.json"


def minutes_or_seconds(seconds):
    """A run time as the README quotes it: ``31 s`` under a minute, else ``16.7 min``."""
    return f"{seconds:.0f} s" if seconds < 60 else f"{seconds / 60:.1f} min"


def full_mode_output(tutorial):
    """What tutorial ``tutorial`` (1-6) printed in the recorded full-mode run."""
    command = record(FULL_MODE)["commands"][tutorial - 1]
    (run,) = command["runs"]
    return run["output_tail"]


def test_tutorials_full_times():
    """The README's full-mode tutorial times: one recorded run each, without quick mode."""
    result = record(FULL_MODE)
    assert "KERAS_LATENT_TUTORIAL_QUICK" not in result["environment"]
    for index, command in enumerate(result["commands"], 1):
        assert command["command"].startswith(f"python tutorials/0{index}_"), command["command"]
        (run,) = command["runs"]
        assert run["exit_status"] == 0, command["command"]
        quoted = f"{minutes_or_seconds(run['seconds'])} ({index})"
        assert_quoted(quoted, text(README), f"tutorial {index}'s full-mode time", FULL_MODE)


def test_tutorial_2_full_mode_scores():
    """Tutorial 2's text quotes the scores its full mode printed for the freshly trained models."""
    printed = "\n".join(full_mode_output(2))
    quoted = []
    for name in ("acai_lines", "ae_lines"):
        match = re.search(rf"{name} after 2000 steps: (\{{.*\}})", printed)
        assert match, f"the record {FULL_MODE} holds no 2000-step scores of {name}"
        scores = ast.literal_eval(match.group(1))  # the dict the tutorial printed
        quoted.append(f"{scores['mean_distance'] * 1e3:.1f}e-3 / {scores['smoothness']:.3f}")
    expected = f"ACAI {quoted[0]} and the autoencoder {quoted[1]}"
    tutorial = ROOT / "tutorials" / "02_lines_benchmark.py"
    assert_quoted(expected, text(tutorial).replace("# ", ""), "tutorial 2's scores", FULL_MODE)


def test_tutorial_3_full_mode_effective_dimensions():
    """Tutorial 3's text quotes the effective dimensions its full mode printed."""
    printed = "\n".join(full_mode_output(3))
    dimensions = dict(re.findall(r"^(\w+): effective dimension (\S+) of 32$", printed, re.M))
    assert set(dimensions) == {"eccentric", "autoencoder"}, printed[-500:]
    expected = (
        f"effective dimension {dimensions['eccentric']} of 32 for the eccentric autoencoder "
        f"against {dimensions['autoencoder']} for the plain one"
    )
    tutorial = ROOT / "tutorials" / "03_eccentric_regularization.py"
    assert_quoted(expected, text(tutorial).replace("# ", ""), "tutorial 3's dimensions", FULL_MODE)


def test_kmeans_paths_table():
    """The dense-fraction table: every threshold's median CPU seconds and the GEMM floor."""
    source = "kmeans_paths.json"
    cases = record(source)["cases"]
    body = section(text(BENCHMARKS), "### Time of `keras-latent evaluate`")
    rows = body[body.index("| `dense_fraction` |") :]
    labels = {
        0.0: "0.0 (every restart with a stale point joins the GEMM)",
        0.3: "0.3 (the default until now)",
        1.0: "1.0 (every restart gathers)",
    }
    for column, name in ((1, "acai_mnist"), (2, "synthetic")):
        case = cases[name]
        for entry in case["fractions"]:
            fraction = entry["dense_fraction"]
            row = table_row(rows, labels.get(fraction, str(fraction)))
            expected = f"{entry['median_cpu_s']:.2f}"
            assert_cell(row, column, expected, f"{name} at {fraction}", source)
        floor = table_row(
            rows, "the GEMMs alone, if every restart-iteration were one dense assignment"
        )
        assert_cell(floor, column, f"{case['dense_floor_cpu_s']:.2f}", f"{name} floor", source)
    assert_quoted(
        f"({cases['acai_mnist']['gemm_gflops']} GFLOP/s on one core)", body, "GEMM rate", source
    )


@pytest.mark.parametrize("preset", ["acai_mnist", "ae_mnist", "eccentric_mnist"])
def test_probe_protocols_rows(preset):
    """Both frozen-latent probes of each published MNIST preset, as its record gives them."""
    source = f"probe_protocols/{preset}.json"
    result = record(source)
    fast, official = result["probes"]["fast"], result["probes"]["official"]
    body = section(text(BENCHMARKS), "### Frozen-latent probe: this project's protocol")
    row = table_row(body, preset)
    for index, expected, figure in (
        (1, f"{result['weights']['images_seen']:,}", "images seen"),
        (2, f"{100 * fast['test_accuracy']:.2f}% ({fast['epochs']} epochs)", "fast probe"),
        (3, f"{100 * official['test_accuracy']:.2f}% ({official['steps']:,} steps)", "official"),
        (4, f"{fast['fit_time_s'] / 60:.1f} / {official['fit_time_s'] / 60:.1f} min", "times"),
    ):
        assert_cell(row, index, expected, f"{preset}: {figure}", source)
    for probe in (fast, official):  # the README's paragraph on the two protocols
        quoted = f"{100 * probe['test_accuracy']:.2f}%"
        assert_quoted(quoted, text(README), f"{preset}: {probe['protocol']} probe", source)


CONV_COLUMNS = ("tensorflow", "tensorflow_onednn", "jax", "torch_nchw", "torch_nhwc_permuted")


@pytest.mark.parametrize("name", ["float32", "bfloat16", "omp_passive", "xla_onednn"])
def test_conv_kernels_zen4_rows(name):
    """Each recorded conv_kernels.py run: its command (with the environment it set) and every
    framework's total milliseconds and ratio."""
    source = f"conv_kernels/zen4_{name}.json"
    result = record(source)
    environment = "".join(f"{key}={value} " for key, value in result["environment"].items())
    body = section(text(BENCHMARKS), "#### Recorded: `conv_kernels.py` on the 2-core AMD EPYC")
    row = table_row(body, f"`{environment}{result['command']}`")
    for index, framework in enumerate(CONV_COLUMNS, start=1):
        total = result["total_ms"].get(framework)
        expected = "" if total is None else f"{total:.1f} ({result['total_ratio'][framework]:.2f})"
        assert_cell(row, index, expected, f"{name}: {framework}", source)
