"""Time the lines metrics: building the reference bank, then scoring the paper's protocol.

The protocol scores 256 pairs x 16 steps = 4096 images of 32x32 against 10,000 reference
lines. Run (with the package installed): ``python benchmarks/lines_metrics.py``.
"""

import math
import time

import numpy as np

from keras_latent.datasets.lines import draw
from keras_latent.metrics.lines import BANK_SIZE, _reference_bank, reference_bank, scores

N_PAIRS, STEPS, REPEATS = 256, 16, 3


def _interpolations(seed=0):
    """Ideal interpolations along the shortest arc, plus a little pixel noise."""
    rng = np.random.default_rng(seed)
    start = rng.uniform(0, 2 * math.pi, N_PAIRS)
    delta = rng.uniform(-math.pi, math.pi, N_PAIRS)
    angles = start[:, None] + delta[:, None] * np.linspace(0, 1, STEPS)
    lines = draw(angles.ravel()).reshape(N_PAIRS, STEPS, 32, 32, 1)
    return lines + rng.normal(0, 0.05, lines.shape).astype(np.float32)


def _best_of(fn, repeats):
    times = []
    for _ in range(repeats):
        begin = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - begin)
    return min(times), result


def main():
    bank_time, _ = _best_of(lambda: _reference_bank.__wrapped__(BANK_SIZE, 32, "official"), REPEATS)
    reference_bank()  # fill the cache, as a session would
    interpolations = _interpolations()
    score_time, result = _best_of(lambda: scores(interpolations), REPEATS)
    n_images = N_PAIRS * STEPS
    print(f"reference bank (10,000 lines, 32x32): {bank_time:.3f} s (best of {REPEATS})")
    print(
        f"scores on {n_images} images ({N_PAIRS} pairs x {STEPS} steps): {score_time:.3f} s "
        f"(best of {REPEATS}, bank cached), {n_images / score_time:,.0f} images/s"
    )
    print(f"  -> {result}")


if __name__ == "__main__":
    main()
