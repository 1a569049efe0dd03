"""Where K-means' two distance paths cost the same, and how far exact Lloyd is from its floor.

    python benchmarks/kmeans_paths.py --data-dir ../shared/data/mnist   # ~15 min, 2 cores
    python benchmarks/kmeans_paths.py --quick                           # synthetic only

In each Lloyd iteration of ``keras_latent.metrics.kmeans``, the points whose Hamerly bounds
no longer settle their centre get exact distances, by one of two paths: a restart with more
than ``dense_fraction`` of its points to recompute joins the block's dense GEMM (all points,
all its centres: efficient per flop, but every point); the others gather just those points
and multiply them by their 10 centres (few flops, but memory-bound). This runs the same block
of restarts (single BLAS thread, CPU seconds, rounds interleaved so that a busy machine
disturbs every setting alike) for several ``dense_fraction`` values, on

- ``acai_mnist``: the shipped preset's 60,000 whitened MNIST train codes (d_z 256), the
  codes ``keras-latent evaluate acai_mnist`` clusters (needs ``--data-dir``);
- ``synthetic``: 60,000 x 256 whitened draws of a 10-Gaussian mixture
  (``clustering_speed.synthetic_latents``).

For each it also records the mean iterations and the *dense floor*: the CPU seconds the
GEMMs alone would take if every restart-iteration were one dense assignment at the GEMM rate
measured here, the cost of plain batched Lloyd without bounds or any other work. Writes
``benchmarks/results/kmeans_paths.json`` (atomically) and prints a table.
"""

import argparse
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.clustering_speed import synthetic_latents  # noqa: E402
from keras_latent.files import write_json  # noqa: E402
from keras_latent.hardware import cpu_model  # noqa: E402
from keras_latent.metrics import kmeans  # noqa: E402

RESULTS = REPO / "benchmarks" / "results" / "kmeans_paths.json"
FRACTIONS = (0.0, 0.1, 0.15, 0.2, 0.3, 1.0)


def preset_codes(preset, data_dir):
    """The preset's whitened train codes, float32, as the clustering protocol makes them."""
    from keras_latent import datasets, zoo
    from keras_latent.metrics import representation

    model = zoo.load(preset)
    x_train, _ = datasets.load("mnist", "train", data_dir=data_dir)
    z = representation.encode_flat(model, x_train)
    return representation.Whitening(z).transform(z).astype(np.float32)


def gemm_rate(x, columns):
    """float32 GFLOP/s of ``x`` times ``columns`` centres, in the chunks ``_assign`` uses."""
    centres = x[:columns].copy()
    chunk = max(1, kmeans._GEMM_ELEMENTS // columns)
    start = time.process_time()
    for _ in range(3):
        for s in range(0, len(x), chunk):
            x[s : s + chunk] @ centres.T
    return 3 * 2.0 * x.shape[0] * x.shape[1] * columns / (time.process_time() - start) / 1e9


def measure(x, restarts, fractions, rounds, k=10):
    """CPU seconds of ``_lloyd`` on one block of ``restarts`` per dense fraction."""
    x_sq = np.einsum("ij,ij->i", x, x, dtype=np.float64).astype(np.float32)
    tol_abs = float(1e-4 * np.mean(np.var(x, axis=0, dtype=np.float64)))
    rng = np.random.default_rng(0)
    starts = np.stack([rng.choice(len(x), k, replace=False) for _ in range(restarts)])
    seconds = {f: [] for f in fractions}
    outcome = {}
    kmeans.keep_freed_memory()
    with threadpool_limits(1, user_api="blas"):
        rate = gemm_rate(x, restarts * k)
        for _ in range(rounds):
            for f in fractions:
                start = time.process_time()
                result = kmeans._lloyd(x, x_sq, x[starts], 1000, tol_abs, dense_fraction=f)
                seconds[f].append(round(time.process_time() - start, 2))
                outcome[f] = (float(result["inertia"].min()), float(result["n_iter"].mean()))
                print(f"  dense_fraction {f}: {seconds[f][-1]} s", flush=True)
    iterations = float(np.mean([it for _, it in outcome.values()]))
    floor = iterations * restarts * 2.0 * x.shape[0] * x.shape[1] * k / (rate * 1e9)
    return {
        "points": list(x.shape),
        "restarts": restarts,
        "gemm_gflops": round(rate, 1),
        "mean_iterations": round(iterations, 2),
        "dense_floor_cpu_s": round(floor, 2),
        "fractions": [
            {
                "dense_fraction": f,
                "cpu_s": seconds[f],
                "median_cpu_s": round(float(np.median(seconds[f])), 2),
                "best_inertia": outcome[f][0],
                "mean_iterations": outcome[f][1],
            }
            for f in fractions
        ],
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, help="MNIST IDX files: adds acai_mnist's codes")
    parser.add_argument("--restarts", type=int, default=40, help="restarts in the block")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--fractions", type=float, nargs="+", default=list(FRACTIONS))
    parser.add_argument("--quick", action="store_true", help="6,000 x 64 synthetic, 8 restarts")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    load_before = os.getloadavg()[0]
    cases = {}
    if args.quick:
        cases["synthetic 6000x64"] = synthetic_latents(6_000, 64)[0]
        args.restarts = 8
    else:
        if args.data_dir is not None:
            cases["acai_mnist"] = preset_codes("acai_mnist", args.data_dir)
        cases["synthetic"] = synthetic_latents(60_000, 256)[0]
    records = {}
    for name, x in cases.items():
        print(f"{name}: {args.restarts} restarts", flush=True)
        records[name] = measure(x, args.restarts, args.fractions, args.rounds)
    record = {
        "command": "python " + " ".join(["benchmarks/kmeans_paths.py", *(argv or sys.argv[1:])]),
        "machine": f"{cpu_model()}, {len(os.sched_getaffinity(0))} cores",
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "python": platform.python_version(),
        "numpy": np.__version__,
        "cases": records,
    }
    write_json(args.output, record)
    print("| case | dense fraction | median CPU s | mean iterations |\n|---|---|---|---|")
    for name, case in records.items():
        for row in case["fractions"]:
            print(f"| {name} | {row['dense_fraction']} | {row['median_cpu_s']} | "
                  f"{row['mean_iterations']} |")  # fmt: skip
        print(f"| {name} | dense floor (GEMMs only, {case['gemm_gflops']} GFLOP/s) | "
              f"{case['dense_floor_cpu_s']} | {case['mean_iterations']} |")  # fmt: skip
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
