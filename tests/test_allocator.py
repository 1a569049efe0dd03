"""glibc keeps freed temporaries: threads reuse resident memory instead of faulting it in."""

import os
import platform
import subprocess
import sys

import pytest

from keras_latent import allocator

GLIBC = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"

# A linear probe trained through Keras fit (as evaluate does before K-means) leaves new threads
# mapping every 1.6 MB array afresh; after keep_freed_memory they reuse resident memory.
# Printed: faults per allocation in a thread, before and after.
THREAD_FAULTS = """
import resource, sys
from concurrent.futures import ThreadPoolExecutor
import numpy as np
from keras_latent.allocator import keep_freed_memory
from keras_latent.metrics.representation import linear_probe_accuracy_from_latents

rng = np.random.default_rng(0)
z, y = rng.normal(size=(2000, 16)), rng.integers(10, size=2000)
linear_probe_accuracy_from_latents(z[:1500], y[:1500], z[1500:], y[1500:], epochs=1)

def faults_per_allocation(_):
    np.ones(400_000, np.float32)
    start = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt
    for _ in range(20):
        np.ones(400_000, np.float32)
    return (resource.getrusage(resource.RUSAGE_THREAD).ru_minflt - start) / 20

def in_threads():
    with ThreadPoolExecutor(2) as pool:
        return max(pool.map(faults_per_allocation, range(2)))

before = in_threads()
print(keep_freed_memory(), before, in_threads())
"""


# Arrays of 64 MB are above any mmap threshold: mapped and faulted in afresh at every
# allocation (in 2 MiB pages where numpy asks for huge pages, else 4 KiB ones), except inside
# heap_allocations. After it, an array larger than the heap holds is mapped afresh again.
# Printed: whether it was set, then faults per allocation before, inside and after.
LARGE_FAULTS = """
import resource
import numpy as np
from keras_latent.allocator import heap_allocations

def faults_per_allocation(size):
    np.ones(size)
    start = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(5):
        np.ones(size)
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - start) / 5

before = faults_per_allocation(8_000_000)
with heap_allocations() as was_set:
    inside = faults_per_allocation(8_000_000)
print(was_set, before, inside, faults_per_allocation(20_000_000))
"""


def run_python(code, env=None):
    """The words ``code`` prints, run in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    return done.stdout.split()


@pytest.mark.skipif(not GLIBC, reason="glibc's mallopt only")
def test_threads_reuse_freed_memory():
    was_set, before, after = run_python(THREAD_FAULTS)
    before, after = float(before), float(after)
    assert was_set == "True"
    assert before > 300  # 391 pages of 4 KiB: every allocation mapped afresh
    assert after < 10  # its heap keeps them resident


@pytest.mark.skipif(not GLIBC, reason="glibc's mallopt only")
def test_large_blocks_stay_in_the_heap_only_inside_heap_allocations():
    was_set, before, inside, after = run_python(LARGE_FAULTS)
    assert was_set == "True"
    assert float(before) >= 20  # 64 MB: at least 31 pages of 2 MiB at every allocation
    assert float(inside) < 5  # the heap keeps the freed block resident
    assert float(after) >= 20  # 160 MB: mapped afresh, as glibc's own rule does


@pytest.mark.skipif(not GLIBC, reason="glibc's mallopt only")
def test_the_users_malloc_variables_win():
    env = {**os.environ, "MALLOC_TRIM_THRESHOLD_": "1000000"}
    code = "from keras_latent.allocator import keep_freed_memory; print(keep_freed_memory())"
    assert run_python(code, env=env) == ["False"]


def test_a_c_library_without_mallopt_is_left_alone(monkeypatch):
    calls = []
    monkeypatch.setattr(allocator.ctypes, "CDLL", lambda name: calls.append(name) or None)
    allocator.keep_freed_memory.cache_clear()
    allocator._mallopt.cache_clear()
    try:
        assert allocator.keep_freed_memory() is False  # the stand-in library has no mallopt
        assert allocator.keep_freed_memory() is False
        with allocator.heap_allocations() as was_set:
            assert was_set is False
        assert len(calls) <= 1  # looked up once per process at most
    finally:
        allocator.keep_freed_memory.cache_clear()
        allocator._mallopt.cache_clear()
