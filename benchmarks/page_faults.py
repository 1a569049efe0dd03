"""Minor page faults per allocation of a large numpy array: do glibc's malloc settings apply?

    python benchmarks/page_faults.py
    MALLOC_MMAP_THRESHOLD_=4294967296 MALLOC_TRIM_THRESHOLD_=68719476736 \
        python benchmarks/page_faults.py

With glibc's defaults a block above the mmap threshold (128 KiB, raised dynamically up to
32 MiB) is mapped fresh on every allocation and returned on free, so each allocation of it
faults its pages in again; with both thresholds raised the block stays in the heap and later
allocations reuse resident pages (no faults). ``throughput.py`` records both variables; this
script shows whether they took effect in this process's C library.
"""

import argparse
import os
import resource

import numpy as np

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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--megabytes", type=int, nargs="+", default=[8, 64])
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args(argv)
    settings = {name: os.environ.get(name, "default") for name in VARIABLES}
    print(", ".join(f"{name}={value}" for name, value in settings.items()))
    for megabytes in args.megabytes:
        faults = faults_per_allocation(megabytes, args.repeats)
        print(f"{megabytes} MB: {faults:.1f} minor page faults per allocation")


if __name__ == "__main__":
    main()
