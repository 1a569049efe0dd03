"""Does mixed precision train as well as float32? Paired runs on lines, one budget, many seeds.

    python benchmarks/precision_quality.py --steps 2000 --seeds 0 1 2 3 4 5 6

For each model (``--models``, default ACAI) and seed, the run of ``table1_lines.py`` under
float32 and the same run (same seed, data and steps) under ``--policy`` (default
``mixed_bfloat16``): runs already recorded in ``--output`` (``table1_lines.py``'s records,
whatever machine they came from) are read, missing ones are trained the same way (a fresh
``keras-latent train MODEL_lines`` process each). Prints, and writes to
``OUTPUT/precision_STEPSsteps_POLICY.md``, each seed's Mean Distance, Smoothness and test
reconstruction MSE under both policies, and per metric the mean over seeds of each policy, the
relative difference of the means and its 95% confidence interval (a Student t interval on the
paired per-seed differences, divided by the float32 mean).

Issue 7 asks for mixed-precision training "within 5% of float32 under the same budget". That is
established for a metric only when the whole interval lies inside +-5%; when seeds spread more
than that (early in training, which seed's run leaves the mean-image plateau first moves Mean
Distance by 2x) the interval is wide and the check is reported as not established, whatever
the means say. Since every metric here is better when lower, the table also says whether mixed
precision is established to be *at most 5% worse* (the interval's upper end at or below +5%,
whatever its lower end): a one-sided reading that a run which may also be better passes. The
last column says how many seeds the observed spread would need for an interval within +-5%.
"""

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy import stats

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import table1_lines  # noqa: E402

from keras_latent.files import atomic_path  # noqa: E402

# All three are better when lower: a positive relative difference means mixed precision did worse.
METRICS = (
    ("Mean Distance (1e-3)", lambda r: 1e3 * r["lines"]["mean_distance"], "{:.2f}"),
    ("Smoothness", lambda r: r["lines"]["smoothness"], "{:.3f}"),
    ("test MSE", lambda r: r["test_reconstruction_mse"], "{:.4f}"),
)
TOLERANCE = 0.05  # issue 7: within 5% of float32
MOST_SEEDS = 1000  # where seeds_for_tolerance stops looking


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(7)))
    parser.add_argument("--models", nargs="+", choices=table1_lines.MODELS, default=["acai"])
    parser.add_argument(
        "--policy", default="mixed_bfloat16", choices=("mixed_bfloat16", "mixed_float16")
    )
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps-per-epoch", type=int, default=250)
    parser.add_argument("--output", type=Path, default=HERE / "results" / "table1")
    parser.add_argument("--runs", type=Path, default=HERE.parent / "runs" / "table1")
    args = parser.parse_args(argv)
    if len(args.seeds) < 2:
        parser.error("a confidence interval needs at least 2 seeds")
    return args


def records(model, policy, args):
    """``{seed: record}`` of ``table1_lines``' runs of ``model`` under ``policy``."""
    run_args = argparse.Namespace(**vars(args), dtype_policy=policy, extend_from=None)
    return {seed: table1_lines.run(model, seed, run_args) for seed in args.seeds}


def relative_difference(reference, other, confidence=0.95):
    """``(mean(other) - mean(reference)) / mean(reference)`` and its t interval on the paired
    per-seed differences (scaled by the same reference mean)."""
    reference, other = np.asarray(reference), np.asarray(other)
    scale = reference.mean()
    differences = other - reference
    half = stats.t.ppf(0.5 + confidence / 2, len(differences) - 1) * stats.sem(differences)
    centre = differences.mean()
    return centre / scale, (centre - half) / scale, (centre + half) / scale


def seeds_for_tolerance(reference, other, confidence=0.95):
    """Fewest seeds whose interval, at the observed spread of the paired differences (relative
    to the reference mean) and centred on zero, fits inside +-TOLERANCE: n with
    t(n - 1) * sd / sqrt(n) <= TOLERANCE; None when more than MOST_SEEDS would be needed."""
    reference, other = np.asarray(reference), np.asarray(other)
    spread = np.std(other - reference, ddof=1) / reference.mean()
    for n in range(2, MOST_SEEDS + 1):
        if stats.t.ppf(0.5 + confidence / 2, n - 1) * spread / np.sqrt(n) <= TOLERANCE:
            return n
    return None


def table(model, fp32, mixed, args):
    seeds = args.seeds
    header = [f"### {table1_lines.NAMES[model]}: float32 against {args.policy}", ""]
    header += [
        "| seed | device | "
        + " | ".join(f"{n}: float32 | {n}: {args.policy}" for n, *_ in METRICS)
        + " |"
    ]
    header += ["|---|---|" + "---|---|" * len(METRICS)]
    rows = []
    for seed in seeds:
        device = fp32[seed]["training"]["device"]
        cells = []
        for _, value, fmt in METRICS:
            cells += [fmt.format(value(fp32[seed])), fmt.format(value(mixed[seed]))]
        rows.append(f"| {seed} | {device} | " + " | ".join(cells) + " |")
    summary = [
        "",
        f"| metric | float32 mean | {args.policy} mean | relative difference | 95% interval "
        "| within 5% | at most 5% worse | seeds for a +-5% interval |",
    ]
    summary += ["|---|---|---|---|---|---|---|---|"]
    for name, value, fmt in METRICS:
        a = [value(fp32[s]) for s in seeds]
        b = [value(mixed[s]) for s in seeds]
        centre, low, high = relative_difference(a, b)
        verdict = (
            "yes"
            if -TOLERANCE <= low and high <= TOLERANCE
            else "no"
            if high < -TOLERANCE or low > TOLERANCE
            else "not established"
        )
        worse = "yes" if high <= TOLERANCE else "no" if low > TOLERANCE else "not established"
        needed = seeds_for_tolerance(a, b) or f"over {MOST_SEEDS}"
        summary.append(
            f"| {name} | {fmt.format(np.mean(a))} | {fmt.format(np.mean(b))} | {centre:+.1%} | "
            f"[{low:+.1%}, {high:+.1%}] | {verdict} | {worse} | {needed} |"
        )
    return "\n".join(header + rows + summary)


def main(argv=None):
    args = parse_args(argv)
    intro = (
        f"{args.steps} steps of {args.batch_size} lines per run, seeds "
        f"{', '.join(map(str, args.seeds))}; each seed trained under both policies from the same "
        "initial weights and data; test MSE on the first 1000 test lines. Relative difference: "
        f"of the {args.policy} mean from the float32 mean; interval: 95% Student t on the paired "
        "per-seed differences. Seeds for a +-5% interval: how many seeds an interval with the "
        "observed spread of the differences, centred on zero, needs to lie within +-5%."
    )
    parts = [intro]
    for model in args.models:
        parts.append(
            table(model, records(model, "float32", args), records(model, args.policy, args), args)
        )
    text = "\n\n".join(parts)
    print(text)
    path = args.output / f"precision_{args.steps}steps_{args.policy}.md"
    with atomic_path(path) as tmp:
        tmp.write_text(f"# float32 against {args.policy} on lines, {args.steps} steps\n\n{text}\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
