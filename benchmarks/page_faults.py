"""Minor page faults per allocation of a large numpy array: do glibc's malloc settings apply?

    python benchmarks/page_faults.py
    MALLOC_MMAP_THRESHOLD_=4294967296 MALLOC_TRIM_THRESHOLD_=68719476736 \
        python benchmarks/page_faults.py
    python benchmarks/page_faults.py --kmeans

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
"""

import argparse
import os
import platform
import resource
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results" / "page_faults_kmeans.json"

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


def kmeans_faults(restarts, output):
    """K-means' page faults and times after a Keras fit, before and after keep_freed_memory."""
    from keras_latent import allocator
    from keras_latent.files import write_json
    from keras_latent.hardware import cpu_model
    from keras_latent.metrics import kmeans, representation

    load_before = os.getloadavg()[0]
    rng = np.random.default_rng(0)
    means = rng.normal(size=(10, 256))
    labels = rng.integers(10, size=60_000)
    latents = means[labels] + rng.normal(size=(60_000, 256)) * 1.5
    points = representation.Whitening(latents).transform(latents).astype(np.float32)
    representation.linear_probe_accuracy_from_latents(
        latents[:5000], labels[:5000], latents[5000:7000], labels[5000:7000], epochs=1
    )

    def run(case):
        before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        result = kmeans.kmeans(points, 10, n_init=restarts, n_jobs=2)
        wall, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF)
        row = {
            "case": case,
            "minor_faults": after.ru_minflt - before.ru_minflt,
            "user_s": round(after.ru_utime - before.ru_utime, 2),
            "system_s": round(after.ru_stime - before.ru_stime, 2),
            "wall_s": round(wall, 2),
        }
        print(row, flush=True)
        return row, result

    kmeans.keep_freed_memory = lambda: False  # kmeans calls it: keep the defaults first
    default, first = run("glibc defaults, after a Keras fit")
    kmeans.keep_freed_memory = allocator.keep_freed_memory
    kept, second = run("after keep_freed_memory()")
    same = bool(np.array_equal(first.labels, second.labels) and first.inertia == second.inertia)
    record = {
        "command": "python benchmarks/page_faults.py --kmeans"
        + (f" --restarts {restarts}" if restarts != 100 else ""),
        "machine": f"{cpu_model()}, {len(os.sched_getaffinity(0))} cores",
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "python": platform.python_version(),
        "numpy": np.__version__,
        "points": list(points.shape),
        "restarts": restarts,
        "set": allocator.keep_freed_memory(),
        "same_clustering": same,
        "runs": [default, kept],
    }
    write_json(output, record)
    print(f"same clustering: {same}; wrote {output}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--megabytes", type=int, nargs="+", default=[8, 64])
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--kmeans", action="store_true", help="K-means after a Keras fit")
    parser.add_argument("--restarts", type=int, default=100)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.kmeans:
        return kmeans_faults(args.restarts, args.output)
    settings = {name: os.environ.get(name, "default") for name in VARIABLES}
    print(", ".join(f"{name}={value}" for name, value in settings.items()))
    for megabytes in args.megabytes:
        faults = faults_per_allocation(megabytes, args.repeats)
        print(f"{megabytes} MB: {faults:.1f} minor page faults per allocation")


if __name__ == "__main__":
    main()
