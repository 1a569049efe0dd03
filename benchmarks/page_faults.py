"""Minor page faults per allocation of a large numpy array: do glibc's malloc settings apply?

    python benchmarks/page_faults.py
    MALLOC_MMAP_THRESHOLD_=4294967296 MALLOC_TRIM_THRESHOLD_=68719476736 \
        python benchmarks/page_faults.py
    python benchmarks/page_faults.py --kmeans
    python benchmarks/page_faults.py --gmm

With glibc's defaults a block above the mmap threshold (128 KiB, raised dynamically up to
32 MiB) is mapped fresh on every allocation and returned on free, so each allocation of it
faults its pages in again; with both thresholds raised the block stays in the heap and later
allocations reuse resident pages (no faults). ``throughput.py`` records both variables; this
script shows whether they took effect in this process's C library.

``--kmeans`` reproduces ``keras-latent evaluate``'s order in one process: a linear probe
trained through Keras ``fit``, then K-means on 60,000 x 256 synthetic whitened latents
(``--restarts`` restarts on 2 threads), twice: with glibc's default thresholds, then after
``keras_latent.allocator.keep_freed_memory()`` (which cannot be undone, hence this order).
For each it records the minor page faults, user and system CPU seconds and wall seconds, and
checks that both give the same clustering. Writes ``benchmarks/results/page_faults_kmeans.json``.

``--gmm`` fits the preset recipe's sampler (``keras_latent.sampling``: 10-component
full-covariance mixture, seed 0) on 60,000 x 256 synthetic whitened latents
(``clustering_speed.synthetic_latents``) for at most ``--iterations`` EM iterations (the
recipe's 100 take minutes), twice: with the fit's ``heap_allocations()`` disabled, then as
shipped: the same computation both times.
Same counters, same check (equal means and weights); writes
``benchmarks/results/page_faults_gmm.json``.
"""

import argparse
import os
import platform
import resource
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results" / "page_faults_kmeans.json"
GMM_RESULTS = RESULTS.with_name("page_faults_gmm.json")

VARIABLES = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")


def faults_per_allocation(megabytes, repeats):
    """Mean minor page faults of allocating, filling and freeing ``megabytes`` of float32."""

    def minor_faults():
        return resource.getrusage(resource.RUSAGE_SELF).ru_minflt

    count = megabytes * 2**20 // 4
    np.ones(count, dtype="float32")  # the first allocation always faults
    start = minor_faults()
    for _ in range(repeats):
        np.ones(count, dtype="float32")
    return (minor_faults() - start) / repeats


def synthetic_codes():
    """60,000 x 256 whitened synthetic latents, float32, and their labels: the data of
    ``clustering_speed.py`` (imported here, so that the default mode starts light)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks.clustering_speed import synthetic_latents

    return synthetic_latents(60_000, 256)


def measured(case, work):
    """Run ``work()``; its row (``case``, minor faults, user and system CPU seconds, wall
    seconds, printed) and its result."""
    before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    result = work()
    after = resource.getrusage(resource.RUSAGE_SELF)
    row = {
        "case": case,
        "minor_faults": after.ru_minflt - before.ru_minflt,
        "user_s": round(after.ru_utime - before.ru_utime, 2),
        "system_s": round(after.ru_stime - before.ru_stime, 2),
        "wall_s": round(time.perf_counter() - start, 2),
    }
    print(row, flush=True)
    return row, result


def record_header(arguments, load_before):
    """What every record of this script starts with: the command with ``arguments``, machine,
    date, load average before and after, versions."""
    from keras_latent.hardware import cpu_model

    return {
        "command": f"python benchmarks/page_faults.py {arguments}",
        "machine": f"{cpu_model()}, {len(os.sched_getaffinity(0))} cores",
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "python": platform.python_version(),
        "numpy": np.__version__,
    }


def kmeans_faults(restarts, output):
    """K-means' page faults and times after a Keras fit, before and after keep_freed_memory."""
    from keras_latent import allocator
    from keras_latent.files import write_json
    from keras_latent.metrics import kmeans, representation

    load_before = os.getloadavg()[0]
    points, labels = synthetic_codes()
    representation.linear_probe_accuracy_from_latents(
        points[:5000], labels[:5000], points[5000:7000], labels[5000:7000], epochs=1
    )

    def cluster():
        return kmeans.kmeans(points, 10, n_init=restarts, n_jobs=2)

    kmeans.keep_freed_memory = lambda: False  # kmeans calls it: keep the defaults first
    default, first = measured("glibc defaults, after a Keras fit", cluster)
    kmeans.keep_freed_memory = allocator.keep_freed_memory
    kept, second = measured("after keep_freed_memory()", cluster)
    same = bool(np.array_equal(first.labels, second.labels) and first.inertia == second.inertia)
    arguments = "--kmeans" + (f" --restarts {restarts}" if restarts != 100 else "")
    record = {
        **record_header(arguments, load_before),
        "points": list(points.shape),
        "restarts": restarts,
        "set": allocator.keep_freed_memory(),
        "same_clustering": same,
        "runs": [default, kept],
    }
    write_json(output, record)
    print(f"same clustering: {same}; wrote {output}")


def gmm_faults(iterations, output):
    """The sampler fit's page faults and times without and with heap_allocations()."""
    import contextlib

    from keras_latent import sampling
    from keras_latent.files import write_json

    load_before = os.getloadavg()[0]
    codes = synthetic_codes()[0].astype(np.float64)

    def fit():
        return sampling.GaussianMixtureSampler(max_iter=iterations, seed=0).fit(codes)

    shipped = sampling.heap_allocations
    sampling.heap_allocations = lambda: contextlib.nullcontext(False)
    default, first = measured("glibc's own mapping", fit)
    sampling.heap_allocations = shipped
    kept, second = measured("inside heap_allocations()", fit)
    same = all(
        np.array_equal(getattr(first, name), getattr(second, name))
        for name in ("weights", "means", "covariances")
    )
    arguments = "--gmm" + (f" --iterations {iterations}" if iterations != 10 else "")
    record = {
        **record_header(arguments, load_before),
        "points": list(codes.shape),
        "max_iter": iterations,
        "same_mixture": bool(same),
        "runs": [default, kept],
    }
    write_json(output, record)
    print(f"same mixture: {same}; wrote {output}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--megabytes", type=int, nargs="+", default=[8, 64])
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--kmeans", action="store_true", help="K-means after a Keras fit")
    parser.add_argument("--restarts", type=int, default=100)
    parser.add_argument("--gmm", action="store_true", help="the latent sampler's mixture fit")
    parser.add_argument("--iterations", type=int, default=10, help="--gmm: EM iterations")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    if args.kmeans:
        return kmeans_faults(args.restarts, args.output or RESULTS)
    if args.gmm:
        return gmm_faults(args.iterations, args.output or GMM_RESULTS)
    settings = {name: os.environ.get(name, "default") for name in VARIABLES}
    print(", ".join(f"{name}={value}" for name, value in settings.items()))
    for megabytes in args.megabytes:
        faults = faults_per_allocation(megabytes, args.repeats)
        print(f"{megabytes} MB: {faults:.1f} minor page faults per allocation")


if __name__ == "__main__":
    main()
