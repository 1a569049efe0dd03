"""Time keras-latent's K-means at the paper's 1000 restarts against scikit-learn, same run.

    python benchmarks/clustering_speed.py                # ~5 min on a quiet 2-core CPU
    python benchmarks/clustering_speed.py --quick        # smoke test, seconds

For each case (60,000 x 256 like MNIST latents at d_z 256, 10,000 x 32 like MNIST test
latents at d_z 32), synthetic latents are drawn from a mixture of 10 Gaussians (random means,
one shared random covariance) and whitened as the clustering protocol does. Then, on the same
data and in the same process:

1. ``keras_latent.metrics.kmeans.kmeans(n_init=S)`` and scikit-learn's
   ``KMeans(init="random", n_init=S, max_iter=1000, tol=1e-4)`` (the official ACAI call), for
   the same number of restarts ``S`` (``--sklearn-n-init``): their time ratio;
2. ``kmeans(n_init=1000)``, the paper's setting: its time (scikit-learn's is extrapolated from
   its ``S`` restarts, and marked so).

Writes ``benchmarks/results/clustering_speed.json`` (atomically) and prints a Markdown table.
The machines are shared: compare only ratios measured in one run.
"""

import argparse
import os
import platform
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import scipy
import sklearn
from sklearn.cluster import KMeans

from keras_latent.files import write_json
from keras_latent.hardware import cpu_model
from keras_latent.metrics.kmeans import kmeans
from keras_latent.metrics.representation import Whitening, cluster_accuracy

CASES = {"60000x256": (60_000, 256), "10000x32": (10_000, 32)}
QUICK = {"6000x64": (6_000, 64), "2000x32": (2_000, 32)}
N_CLUSTERS = 10


def synthetic_latents(n, d, seed=0, separation=0.35):
    """Whitened draws of a 10-Gaussian mixture, float32, with their component labels."""
    rng = np.random.default_rng(seed)
    means = rng.normal(size=(N_CLUSTERS, d)) * separation
    mixing = rng.normal(size=(d, d)) / np.sqrt(d)
    labels = rng.integers(0, N_CLUSTERS, n)
    z = means[labels] + rng.normal(size=(n, d)) @ mixing
    return Whitening(z).transform(z).astype(np.float32), labels


def timed(function):
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def run_case(name, n, d, n_init, sklearn_n_init, seed):
    x, truth = synthetic_latents(n, d, seed)
    ours_same, ours_same_s = timed(lambda: kmeans(x, N_CLUSTERS, n_init=sklearn_n_init, seed=seed))
    reference, sklearn_s = timed(
        lambda: KMeans(
            N_CLUSTERS,
            init="random",
            n_init=sklearn_n_init,
            max_iter=1000,
            tol=1e-4,
            algorithm="lloyd",
            random_state=seed,
        ).fit(x)
    )
    ours, ours_s = timed(lambda: kmeans(x, N_CLUSTERS, n_init=n_init, seed=seed))
    record = {
        "case": name,
        "points": n,
        "dimensions": d,
        "same_restarts": {
            "n_init": sklearn_n_init,
            "keras_latent_s": round(ours_same_s, 2),
            "sklearn_s": round(sklearn_s, 2),
            "speedup": round(sklearn_s / ours_same_s, 2),
            "keras_latent_best_inertia": ours_same.inertia,
            "sklearn_best_inertia": float(reference.inertia_),
            "keras_latent_mean_iterations": float(ours_same.n_iters.mean()),
        },
        "paper_restarts": {
            "n_init": n_init,
            "keras_latent_s": round(ours_s, 2),
            "sklearn_s_extrapolated": round(sklearn_s * n_init / sklearn_n_init, 1),
            "best_inertia": ours.inertia,
            "mean_iterations": float(ours.n_iters.mean()),
            "accuracy_vs_mixture_components": cluster_accuracy(truth, ours.labels),
        },
    }
    print(f"{name}: {record}", flush=True)
    return record


def table(records, n_init):
    rows = [
        f"| latents | restarts S | keras-latent, S | scikit-learn, S | speed-up | "
        f"keras-latent, {n_init} | scikit-learn, {n_init} (extrapolated) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in records:
        same, paper = r["same_restarts"], r["paper_restarts"]
        rows.append(
            f"| {r['points']:,} x {r['dimensions']} | {same['n_init']} | "
            f"{same['keras_latent_s']:.1f} s | {same['sklearn_s']:.1f} s | "
            f"{same['speedup']:.1f}x | {paper['keras_latent_s']:.0f} s | "
            f"~{paper['sklearn_s_extrapolated']:.0f} s |"
        )
    return "\n".join(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-init", type=int, default=1000, help="restarts (paper: 1000)")
    parser.add_argument("--sklearn-n-init", type=int, default=20, help="restarts S compared")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="small cases, 50 restarts")
    parser.add_argument(
        "--output", type=Path, default=Path("benchmarks/results/clustering_speed.json")
    )
    args = parser.parse_args()
    cases, n_init, s = (QUICK, 50, 5) if args.quick else (CASES, args.n_init, args.sklearn_n_init)
    load_before = os.getloadavg()
    records = [run_case(name, n, d, n_init, s, args.seed) for name, (n, d) in cases.items()]
    result = {
        "command": "python benchmarks/clustering_speed.py" + (" --quick" if args.quick else ""),
        "machine": f"{cpu_model()}, {os.cpu_count()} cores",
        "load_average_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        "versions": {
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "scikit-learn": sklearn.__version__,
            "python": platform.python_version(),
        },
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "cases": records,
    }
    write_json(args.output, result)
    print(table(records, n_init))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
