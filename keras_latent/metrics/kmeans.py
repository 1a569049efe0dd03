"""K-means with many restarts at once: Lloyd's algorithm batched over restarts, in numpy.

The ACAI paper clusters latents with 1000 restarts (the official code: scikit-learn's
``KMeans(init="random", n_init=1000, max_iter=1000)``, tolerance 1e-4). Run one after another,
that is 1000 small problems; here blocks of restarts run together, so each step is one large
matrix product:

- **assign**: for points ``x`` and the centres ``c`` of every restart in a block,
  ``argmin_j ||x - c_j||^2 = argmin_j (||c_j||^2 - 2 x.c_j)``: one float32 GEMM of ``x``
  against all the block's centres (``1024 // k`` restarts), then an argmin over each
  restart's ``k`` columns;
- **update**: ``c_j = mean of the points assigned to j``, from per-cluster sums kept from one
  iteration to the next: recomputed as a sparse one-hot product while many points move, then
  changed only by the points that moved;
- **stop** (as scikit-learn's Lloyd): when no label changes, or when the total squared centre
  shift is at most ``tol * mean(var(x, axis=0))``, after which the points are assigned once
  more to the final centres; or after ``max_iter`` updates. A restart that stops leaves the
  block, so later products shrink.
- **empty clusters** (as scikit-learn): each takes the point farthest from its centre.

The restart with the lowest inertia (sum of squared distances to the assigned centres) wins.
Initialisation: ``"random"`` (default, the paper's): ``k`` distinct points drawn uniformly;
``"k-means++"``: plain D^2 sampling (Arthur and Vassilvitskii 2007), one candidate per centre
(scikit-learn's greedy variant tries several).
"""

import dataclasses

import numpy as np
import scipy.sparse

_GEMM_ELEMENTS = 1 << 22  # entries of one distance block (16 MiB of float32)
_BLOCK_COLUMNS = 1024  # centres per block: restarts per block = max(1, 1024 // k)
_MOVED_FRACTION = 0.2  # below this fraction of moved points, update the sums by the moves


@dataclasses.dataclass
class KMeansResult:
    """The best restart: ``centers`` (k, d) float64, ``labels`` (n,) int64, its ``inertia``,
    ``n_iter`` (its centre updates); ``inertias`` and ``n_iters`` of every restart."""

    centers: np.ndarray
    labels: np.ndarray
    inertia: float
    n_iter: int
    inertias: np.ndarray
    n_iters: np.ndarray


def check_points(x, n_clusters, what="points"):
    """``x`` as a float32 (n, d) array; ``2 <= n_clusters <= n``; finite. Else ValueError."""
    x = np.asarray(x)
    if x.dtype == object or not np.issubdtype(x.dtype, np.number):
        raise TypeError(f"{what} must be numeric, got dtype {x.dtype}")
    if x.ndim != 2:
        raise ValueError(f"{what} must have shape (n, d), got {x.shape}")
    if not np.all(np.isfinite(x)):
        bad = int(np.sum(~np.isfinite(x).all(axis=1)))
        raise ValueError(f"{what} contain NaN or infinite values ({bad} of {len(x)} rows)")
    if isinstance(n_clusters, bool) or not isinstance(n_clusters, (int, np.integer)):
        raise TypeError(f"n_clusters must be an integer, got {n_clusters!r}")
    if n_clusters < 2:
        raise ValueError(f"n_clusters must be >= 2, got {n_clusters}")
    if n_clusters > len(x):
        raise ValueError(
            f"n_clusters ({n_clusters}) is larger than the number of {what} ({len(x)})"
        )
    return x.astype(np.float32, copy=False)


def kmeans(x, n_clusters, n_init=1000, init="random", max_iter=1000, tol=1e-4, seed=0):
    """Cluster the rows of ``x`` (n, d) into ``n_clusters``; best of ``n_init`` restarts.

    Returns a :class:`KMeansResult`. Deterministic for a given ``seed``.
    """
    x = check_points(x, n_clusters)
    k = int(n_clusters)
    for name, value in (("n_init", n_init), ("max_iter", max_iter)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if init not in ("random", "k-means++"):
        raise ValueError(f"init must be 'random' or 'k-means++', got {init!r}")
    if not tol >= 0:
        raise ValueError(f"tol must be >= 0, got {tol}")
    rng = np.random.default_rng(seed)
    x_sq = np.einsum("ij,ij->i", x, x, dtype=np.float64).astype(np.float32)
    tol_abs = float(tol * np.mean(np.var(x, axis=0, dtype=np.float64)))
    per_block = max(1, _BLOCK_COLUMNS // k)

    inertias = np.empty(n_init)
    n_iters = np.empty(n_init, dtype=np.int64)
    best = None
    for start in range(0, n_init, per_block):
        size = min(per_block, n_init - start)
        if init == "random":
            picks = np.stack([rng.choice(len(x), k, replace=False) for _ in range(size)])
            centers = x[picks]
        else:
            centers = _kmeans_plus_plus(x, x_sq, k, size, rng)
        block = _lloyd(x, x_sq, centers, max_iter, tol_abs)
        inertias[start : start + size] = block["inertia"]
        n_iters[start : start + size] = block["n_iter"]
        i = int(np.argmin(block["inertia"]))
        if best is None or block["inertia"][i] < best[0]:
            best = (block["inertia"][i], block["centers"][i], block["labels"][i], start + i)
    _, centers, labels, index = best
    centers = centers.astype(np.float64)
    labels = labels.astype(np.int64)
    inertia = float(np.sum((x.astype(np.float64) - centers[labels]) ** 2))
    return KMeansResult(centers, labels, inertia, int(n_iters[index]), inertias, n_iters)


def predict(x, centers):
    """Index of the nearest of ``centers`` (k, d) for each row of ``x`` (n, d), in float64."""
    x = np.asarray(x, dtype=np.float64)
    centers = np.asarray(centers, dtype=np.float64)
    scores = np.sum(centers**2, axis=1) - 2 * x @ centers.T
    return np.argmin(scores, axis=1)


def _assign(x, x_sq, centers):
    """Nearest centre per restart: labels (r, n) int32 and squared distances (r, n) float32."""
    r, k, d = centers.shape
    flat = centers.reshape(r * k, d)
    c_sq = np.einsum("ij,ij->i", flat, flat, dtype=np.float64).astype(np.float32)
    flat = -2.0 * flat
    labels = np.empty((len(x), r), dtype=np.int32)
    distances = np.empty((len(x), r), dtype=np.float32)
    chunk = max(1, _GEMM_ELEMENTS // (r * k))
    for s in range(0, len(x), chunk):
        scores = x[s : s + chunk] @ flat.T  # ||c||^2 - 2 x.c, column b * k + j
        scores += c_sq
        scores = scores.reshape(len(scores), r, k)
        nearest = scores.argmin(axis=2)
        labels[s : s + chunk] = nearest
        best = np.take_along_axis(scores, nearest[..., None], axis=2)[..., 0]
        distances[s : s + chunk] = best + x_sq[s : s + chunk, None]
    np.maximum(distances, 0.0, out=distances)
    return labels.T, distances.T


def _cluster_sums(x, labels, k):
    """Per-cluster sums (r, k, d) float64 of the points: a sparse one-hot product."""
    r, n = labels.shape
    columns = (labels.T + np.arange(r, dtype=np.int32) * k).ravel()
    onehot = scipy.sparse.csr_matrix(
        (np.ones(n * r, np.float32), columns, np.arange(0, n * r + 1, r)), shape=(n, r * k)
    )
    return np.asarray(onehot.T @ x, dtype=np.float64).reshape(r, k, -1)


def _moved_sums(x, old, new, changed, k):
    """Change (r, k, d) of the per-cluster sums when the points in ``changed`` move."""
    r = changed.shape[0]
    restart, point = np.nonzero(changed)
    rows = np.concatenate([restart * k + new[restart, point], restart * k + old[restart, point]])
    values = np.concatenate([np.ones(len(point), np.float32), -np.ones(len(point), np.float32)])
    moves = scipy.sparse.csr_matrix(
        (values, (rows, np.concatenate([point, point]))), shape=(r * k, len(x))
    )
    return np.asarray(moves @ x, dtype=np.float64).reshape(r, k, -1)


def _lloyd(x, x_sq, centers, max_iter, tol_abs):
    """Lloyd's algorithm for a block of restarts with initial ``centers`` (r, k, d)."""
    r, k, _ = centers.shape
    n = len(x)
    centers = centers.astype(np.float32, copy=True)
    labels = np.zeros((r, n), dtype=np.int32)
    sums = np.zeros(centers.shape)
    counts = np.zeros((r, k), dtype=np.int64)
    inertia = np.full(r, np.inf)
    n_iter = np.zeros(r, dtype=np.int64)
    finishing = np.zeros(r, dtype=bool)  # tolerance reached: one last assignment, then stop
    active = np.arange(r)
    for iteration in range(max_iter + 1):
        new, distances = _assign(x, x_sq, centers[active])
        old = labels[active]
        changed = new != old
        moved = changed.sum(axis=1)
        done = finishing[active] | (iteration == max_iter)
        if iteration > 0:
            done |= moved == 0
        stopped = active[done]
        labels[stopped] = new[done]
        inertia[stopped] = distances[done].sum(axis=1, dtype=np.float64)
        n_iter[stopped] = iteration
        keep = ~done
        active = active[keep]
        if active.size == 0:
            break
        new, old, changed, distances = new[keep], old[keep], changed[keep], distances[keep]
        if iteration == 0 or moved[keep].sum() > _MOVED_FRACTION * changed.size:
            sums[active] = _cluster_sums(x, new, k)
        else:
            sums[active] += _moved_sums(x, old, new, changed, k)
        labels[active] = new
        offsets = (np.arange(len(active)) * k)[:, None]
        counts[active] = np.bincount((new + offsets).ravel(), minlength=len(active) * k).reshape(
            len(active), k
        )
        for row in np.nonzero((counts[active] == 0).any(axis=1))[0]:
            _relocate_empty(x, active[row], distances[row], labels, sums, counts)
        previous = centers[active].astype(np.float64)
        updated = sums[active] / np.maximum(counts[active], 1)[..., None]
        updated = np.where(counts[active][..., None] > 0, updated, previous)
        shift = np.sum((updated - previous) ** 2, axis=(1, 2))
        centers[active] = updated
        finishing[active] = shift <= tol_abs
    return {"centers": centers, "labels": labels, "inertia": inertia, "n_iter": n_iter}


def _relocate_empty(x, restart, distances, labels, sums, counts):
    """Give each empty cluster of one restart the point farthest from its own centre."""
    empty = np.nonzero(counts[restart] == 0)[0]
    far = np.argsort(distances, kind="stable")[::-1]
    taken = 0
    for cluster in empty:
        while taken < len(far) and counts[restart, labels[restart, far[taken]]] <= 1:
            taken += 1  # never empty another cluster
        if taken == len(far):
            return
        point = far[taken]
        taken += 1
        source = labels[restart, point]
        sums[restart, source] -= x[point]
        counts[restart, source] -= 1
        sums[restart, cluster] = x[point]
        counts[restart, cluster] = 1
        labels[restart, point] = cluster


def _kmeans_plus_plus(x, x_sq, k, r, rng):
    """Plain k-means++ for ``r`` restarts at once: initial centres (r, k, d) float32."""
    n = len(x)
    picks = np.empty((r, k), dtype=np.int64)
    picks[:, 0] = rng.integers(n, size=r)
    closest = None
    for j in range(1, k):
        chosen = x[picks[:, j - 1]]  # (r, d)
        d2 = x_sq[:, None] - 2.0 * (x @ chosen.T) + x_sq[picks[:, j - 1]][None, :]
        d2 = np.maximum(d2, 0.0).T.astype(np.float64)  # (r, n)
        closest = d2 if closest is None else np.minimum(closest, d2)
        cumulative = np.cumsum(closest, axis=1)
        totals = cumulative[:, -1]
        draws = rng.uniform(size=r) * totals
        idx = np.array([np.searchsorted(cumulative[i], draws[i], side="right") for i in range(r)])
        # all points on the chosen centres (total 0): fall back to a uniform draw
        uniform = rng.integers(n, size=r)
        picks[:, j] = np.where(totals > 0, np.minimum(idx, n - 1), uniform)
    return x[picks]
