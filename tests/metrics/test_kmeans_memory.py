"""K-means memory is bounded whatever ``n_init``: restarts run in blocks of at most
``1024 // k`` (structure; ``benchmarks/memory.py`` measures the peak)."""

import numpy as np
import pytest

from keras_latent.metrics import kmeans as km


@pytest.mark.parametrize("n_init", [3, 1000])
def test_restart_blocks_are_bounded(n_init, monkeypatch):
    blocks, kept = [], []
    lloyd = km._lloyd

    def recording(x, x_sq, centers, max_iter, tol_abs):
        blocks.append(centers.shape[0])
        result = lloyd(x, x_sq, centers, max_iter, tol_abs)
        kept.append((centers.shape[0], result["labels"].shape))
        return result

    monkeypatch.setattr(km, "_lloyd", recording)
    x = np.random.default_rng(0).standard_normal((200, 4)).astype("float32")
    k = 10
    result = km.kmeans(x, k, n_init=n_init, max_iter=1, n_jobs=2)
    assert sum(blocks) == n_init == len(result.inertias)
    # One block's state is (restarts, points); a block never holds more than 1024 // k.
    assert max(blocks) <= max(1, km._BLOCK_COLUMNS // k)
    assert all(shape == (size, len(x)) for size, shape in kept)
