"""Keep freed memory in glibc's heaps, so that numpy's temporaries stop costing page faults.

glibc's ``malloc`` maps a block larger than its *mmap threshold* fresh from the kernel and
unmaps it on ``free``, so each new array of that size faults all its pages in again (one minor
fault per 4 KiB). The threshold starts at 128 KiB and normally rises, up to 32 MiB, as such
blocks are freed. After a Keras ``fit`` in the same process (``evaluate``'s linear probe)
this stopped working for new threads: K-means' worker threads then mapped and faulted every
temporary of a few MiB at every Lloyd iteration, and a third of ``keras-latent evaluate``'s
CPU time went to the kernel (``benchmarks/page_faults.py --kmeans`` reproduces it;
``benchmarks/README.md``, "Time of keras-latent evaluate").

``keep_freed_memory`` fixes both thresholds at the ceiling the dynamic rule would reach
anyway: blocks up to 32 MiB come from the heaps (``M_MMAP_THRESHOLD``), and a heap gives
memory back to the kernel only when 64 MiB are free at its top (``M_TRIM_THRESHOLD``). It
changes no result, only where memory comes from; the process holds at most those few freed
blocks longer. A user's ``MALLOC_MMAP_THRESHOLD_`` or ``MALLOC_TRIM_THRESHOLD_`` wins, and on
a C library without ``mallopt`` (macOS, musl) nothing happens.
"""

import ctypes
import ctypes.util
import functools
import os

M_TRIM_THRESHOLD = -1  # glibc's malloc.h
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 2**20  # glibc's DEFAULT_MMAP_THRESHOLD_MAX on 64-bit
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD  # what the dynamic rule sets beside it
USER_VARIABLES = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")


@functools.cache
def keep_freed_memory():
    """Set glibc's mmap and trim thresholds once per process; True where they were set."""
    if any(name in os.environ for name in USER_VARIABLES):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
