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
blocks longer.

Blocks above 32 MiB are mapped fresh whatever the threshold: a Gaussian mixture fitted on
60,000 codes of 256 numbers allocates arrays of 123 MB at every EM iteration, and a fifth of its
CPU time went to faulting them in. Inside :func:`heap_allocations` nothing is mapped fresh
(``M_MMAP_MAX`` 0): every block comes from the heap, which keeps what is freed (trim threshold
1 GiB), so later arrays reuse resident pages; on leaving, mapping and the trim threshold return
to :func:`keep_freed_memory`'s settings (``benchmarks/page_faults.py --gmm`` measures it). The
heap keeps the blocks freed inside for reuse: the process may stay near the fit's peak memory
until later frees let glibc trim the heap's top.

A user's ``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_`` or ``MALLOC_MMAP_MAX_`` wins,
and on a C library without ``mallopt`` (macOS, musl) nothing happens.
"""

import contextlib
import ctypes
import ctypes.util
import functools
import os

M_TRIM_THRESHOLD = -1  # glibc's malloc.h
M_MMAP_THRESHOLD = -3
M_MMAP_MAX = -4
DEFAULT_MMAP_MAX = 65536  # glibc's DEFAULT_MMAP_MAX
HEAP_TRIM_THRESHOLD = 2**30  # inside heap_allocations: keep up to 1 GiB freed
MMAP_THRESHOLD = 32 * 2**20  # glibc's DEFAULT_MMAP_THRESHOLD_MAX on 64-bit
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD  # what the dynamic rule sets beside it
USER_VARIABLES = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_MAX_")


@functools.cache
def _mallopt():
    """glibc's ``mallopt``, or None where the user tunes malloc or the C library has none."""
    if any(name in os.environ for name in USER_VARIABLES):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return None
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return mallopt


@functools.cache
def keep_freed_memory():
    """Set glibc's mmap and trim thresholds once per process; True where they were set."""
    mallopt = _mallopt()
    if mallopt is None:
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )


@contextlib.contextmanager
def heap_allocations():
    """Inside: no block is mapped fresh and freed memory stays in the heap (see the module's
    docstring); yields True where that was set."""
    mallopt = _mallopt() if keep_freed_memory() else None
    if mallopt is None:
        yield False
        return
    mallopt(M_TRIM_THRESHOLD, HEAP_TRIM_THRESHOLD)
    mallopt(M_MMAP_MAX, 0)
    try:
        yield True
    finally:
        mallopt(M_MMAP_MAX, DEFAULT_MMAP_MAX)
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
