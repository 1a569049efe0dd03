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
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse
from threadpoolctl import threadpool_limits

from keras_latent.allocator import keep_freed_memory

_GEMM_ELEMENTS = 1 << 20  # entries of one distance block (4 MiB of float32: near the L2 size)
_BLOCK_COLUMNS = 1024  # centres per block: restarts per block = max(1, 1024 // k)
_DENSE_FRACTION = 0.15  # restarts with more points than this to recompute share one GEMM
_MOVED_FRACTION = 0.3  # above this fraction of moved points, sum the clusters afresh


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


def kmeans(x, n_clusters, n_init=1000, init="random", max_iter=1000, tol=1e-4, seed=0, n_jobs=None):
    """Cluster the rows of ``x`` (n, d) into ``n_clusters``; best of ``n_init`` restarts.

    Blocks of restarts run on ``n_jobs`` threads (default: the CPUs this process may use),
    each with a single-threaded BLAS, as scikit-learn does (BLAS threads that wait for each
    other slow everything down on a busy machine), and glibc keeps their freed temporaries
    (:func:`keras_latent.allocator.keep_freed_memory`). Returns a :class:`KMeansResult`;
    deterministic for a given ``seed`` whatever ``n_jobs``.
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
    workers = int(n_jobs or len(os.sched_getaffinity(0)))
    x_sq = np.einsum("ij,ij->i", x, x, dtype=np.float64).astype(np.float32)
    tol_abs = float(tol * np.mean(np.var(x, axis=0, dtype=np.float64)))
    per_block = max(1, min(_BLOCK_COLUMNS // k, -(-n_init // workers)))
    sizes = [min(per_block, n_init - s) for s in range(0, n_init, per_block)]
    rng = np.random.default_rng(seed)
    if init == "random":  # drawn up front, in order: independent of the threads
        starts = [rng.choice(len(x), k, replace=False) for _ in range(n_init)]
        blocks = np.split(np.stack(starts), np.cumsum(sizes)[:-1])
    else:
        blocks = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(len(sizes))]

    def run(index):
        if init == "random":
            centers = x[blocks[index]]
        else:
            centers = _kmeans_plus_plus(x, x_sq, k, sizes[index], blocks[index])
        result = _lloyd(x, x_sq, centers, max_iter, tol_abs)
        i = int(np.argmin(result["inertia"]))  # keep only the block's best labels
        return result["inertia"], result["n_iter"], result["centers"][i], result["labels"][i]

    keep_freed_memory()
    with threadpool_limits(1, user_api="blas"), ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(run, range(len(sizes))))
    inertias = np.concatenate([r[0] for r in results])
    n_iters = np.concatenate([r[1] for r in results])
    index = int(np.argmin(inertias))
    block = int(np.searchsorted(np.cumsum(sizes), index, side="right"))
    centers = results[block][2].astype(np.float64)
    labels = results[block][3].astype(np.int64)
    inertia = float(np.sum((x.astype(np.float64) - centers[labels]) ** 2))
    return KMeansResult(centers, labels, inertia, int(n_iters[index]), inertias, n_iters)


def predict(x, centers):
    """Index of the nearest of ``centers`` (k, d) for each row of ``x`` (n, d), in float64."""
    x = np.asarray(x, dtype=np.float64)
    centers = np.asarray(centers, dtype=np.float64)
    scores = np.sum(centers**2, axis=1) - 2 * x @ centers.T
    return np.argmin(scores, axis=1)


def _assign(x, x_sq, centers):
    """Two nearest centres per restart, by one GEMM for the whole block of ``centers``
    (r, k, d): labels (r, n) int32 and squared distances to the nearest and second nearest
    centre, (r, n) float32 each."""
    r, k, d = centers.shape
    flat = centers.transpose(1, 0, 2).reshape(k * r, d)  # row j * r + b: centre j of b
    c_sq = np.einsum("ij,ij->i", flat, flat, dtype=np.float64).astype(np.float32)
    flat = -2.0 * flat
    labels = np.empty((r, len(x)), dtype=np.int32)
    nearest = np.empty((r, len(x)), dtype=np.float32)
    second = np.empty((r, len(x)), dtype=np.float32)
    chunk = max(1, _GEMM_ELEMENTS // (r * k))
    for s in range(0, len(x), chunk):
        scores = x[s : s + chunk] @ flat.T
        scores += c_sq
        scores += x_sq[s : s + chunk, None]
        found = _two_smallest(scores, k)
        for out, value in zip((labels, nearest, second), found):
            out[:, s : s + chunk] = value.T
    return labels, nearest, second


def _assign_some(x, x_sq, centers, points):
    """Exact two nearest of one restart's ``centers`` (k, d) for the rows ``points`` of
    ``x``: labels, d1^2 and d2^2, (len(points),) each."""
    scores = x[points] @ (-2.0 * centers.T)
    scores += np.einsum("ij,ij->i", centers, centers)
    scores += x_sq[points, None]
    rows = np.arange(len(points))
    labels = scores.argmin(axis=1)
    nearest = scores[rows, labels]
    scores[rows, labels] = np.inf
    return labels, np.maximum(nearest, 0.0), np.maximum(scores.min(axis=1), 0.0)


def _two_smallest(scores, k):
    """The smallest and second smallest of ``k`` squared distances, for each row of
    ``scores`` (m, k * r) (column ``j * r + b``: centre j of restart b) and each restart:
    labels (m, r) int32 and the two distances (m, r) float32. Overwrites ``scores``.

    The minima are taken over integer keys rather than by an argmin over a short axis (slow
    in numpy): the bit pattern of a float >= 0, read as an integer, orders like the value, and
    the centre's index is written into its lowest ``b = bit_length(k - 1)`` bits, so a running
    minimum over the ``k`` centres gives the distance and its index at once. With ``k <= 16``
    the keys are the float32 distances with those bits cleared, so distances closer than
    ``2**(b - 23)`` relative (1.9e-6 for ``k = 10``) count as tied and go to the lower index;
    with more clusters the keys are the distances widened to float64, whose low 29 bits are
    zero, and the order is exact.
    """
    m, r = len(scores), scores.shape[1] // k
    np.maximum(scores, 0.0, out=scores)  # rounding can leave a distance just below 0
    narrow = k <= 16
    key_type, float_type = (np.int32, np.float32) if narrow else (np.int64, np.float64)
    mask = key_type((1 << max(1, (k - 1).bit_length())) - 1)
    if narrow:
        keys = scores.view(np.int32)
        keys &= ~mask
    else:
        keys = scores.astype(np.float64).view(np.int64)
    keys = keys.reshape(m, k, r)
    keys |= np.arange(k, dtype=key_type)[:, None]
    first = keys[:, 0].copy()
    runner_up = np.full_like(first, np.iinfo(key_type).max)
    larger = np.empty_like(first)
    for j in range(1, k):
        np.maximum(first, keys[:, j], out=larger)
        np.minimum(runner_up, larger, out=runner_up)
        np.minimum(first, keys[:, j], out=first)
    labels = (first & mask).astype(np.int32, copy=False)
    return labels, (first & ~mask).view(float_type), (runner_up & ~mask).view(float_type)


def _cluster_sums(x, labels, k):
    """Per-cluster sums (r, k, d) float64 of the points: a sparse one-hot product."""
    r, n = labels.shape
    columns = (labels.T + np.arange(r, dtype=np.int32) * k).ravel()
    onehot = scipy.sparse.csr_matrix(
        (np.ones(n * r, np.float32), columns, np.arange(0, n * r + 1, r)), shape=(n, r * k)
    )
    return np.asarray(onehot.T @ x, dtype=np.float64).reshape(r, k, -1)


def _moved_sums(x, moves, r, k):
    """Change (r, k, d) of the per-cluster sums when points move: ``moves`` is the arrays
    (restart, point, old label, new label), one entry per moved point."""
    restart, point, old, new = moves
    rows = np.concatenate([restart * k + new, restart * k + old])
    values = np.concatenate([np.ones(len(point), np.float32), -np.ones(len(point), np.float32)])
    change = scipy.sparse.csr_matrix(
        (values, (rows, np.concatenate([point, point]))), shape=(r * k, len(x))
    )
    return np.asarray(change @ x, dtype=np.float64).reshape(r, k, -1)


def _count(labels, k):
    r = len(labels)
    offsets = (np.arange(r, dtype=np.int64) * k)[:, None]
    return np.bincount((labels + offsets).ravel(), minlength=r * k).reshape(r, k)


class _Block:
    """The state of a block of restarts that are still running; rows leave as they stop."""

    def __init__(self, x, x_sq, centers):
        self.k = centers.shape[1]
        self.index = np.arange(len(centers))  # position of each row in the block
        self.centers = centers.astype(np.float32)
        self.labels, d1, d2 = _assign(x, x_sq, self.centers)
        self.upper, self.lower = np.sqrt(d1, out=d1), np.sqrt(d2, out=d2)
        self.sums = _cluster_sums(x, self.labels, self.k)
        self.counts = _count(self.labels, self.k)

    def keep(self, rows):
        for name in ("index", "centers", "labels", "upper", "lower", "sums", "counts"):
            setattr(self, name, getattr(self, name)[rows])


def _lloyd(x, x_sq, centers, max_iter, tol_abs, dense_fraction=_DENSE_FRACTION):
    """Lloyd's algorithm for a block of restarts with initial ``centers`` (r, k, d).

    Exact Lloyd, accelerated by Hamerly's bounds (Hamerly 2010): per restart and point, an
    upper bound ``u`` on the distance to the assigned centre and a lower bound ``l`` on the
    distance to every other one. After the centres move by ``delta_j``,
    ``u += delta_label`` and ``l -= max_j delta_j``; a point whose ``u`` is at most
    ``max(l, s_label)`` (``s_j``: half the distance from centre j to its nearest other centre)
    keeps its centre without computing a distance. The others get exact distances: one GEMM
    for the restarts where more than ``dense_fraction`` of the points need them, a gather
    and a small product per restart for the others (the default, 0.15, is the middle of the
    flat optimum 0.1-0.2 that ``benchmarks/kmeans_paths.py`` measured). The bounds are
    updated in place: the (r, n) arrays are too large for the allocator to keep, and
    allocating them afresh at every iteration costs page faults.
    """
    r, k, _ = centers.shape
    n = len(x)
    block = _Block(x, x_sq, centers)
    out_centers = np.empty((r, k, x.shape[1]), dtype=np.float32)
    out_labels = np.empty((r, n), dtype=np.int32)
    inertia = np.full(r, np.inf)
    n_iter = np.zeros(r, dtype=np.int64)
    slack = 1e-5 * float(np.sqrt(x_sq.max())) + 1e-6  # covers float32 rounding of distances
    for iteration in range(1, max_iter + 1):
        # update: centres = means; an empty cluster takes the point farthest from its centre
        for row in np.flatnonzero((block.counts == 0).any(axis=1)):
            _relocate_empty(x, block, row)
        previous = block.centers.astype(np.float64)
        counts = block.counts[..., None]
        updated = np.where(counts > 0, block.sums / np.maximum(counts, 1), previous)
        shift = np.sqrt(np.sum((updated - previous) ** 2, axis=2))  # (a, k)
        finishing = np.sum(shift**2, axis=1) <= tol_abs
        block.centers = updated.astype(np.float32)

        # bounds: a point is stale (needs its distances) unless u + slack <= max(l, s_label)
        labels, upper, lower = block.labels, block.upper, block.lower
        shift = shift.astype(np.float32)
        upper += np.take_along_axis(shift, labels, axis=1)
        lower -= shift.max(axis=1, keepdims=True)
        gaps = np.linalg.norm(updated[:, :, None] - updated[:, None], axis=3)
        gaps[:, np.arange(k), np.arange(k)] = np.inf
        bound = np.take_along_axis((0.5 * gaps.min(axis=2)).astype(np.float32), labels, axis=1)
        np.maximum(bound, lower, out=bound)
        stale = np.add(upper, slack) > bound
        del bound
        n_stale = stale.sum(axis=1)

        # exact distances for the stale points; each moved point is recorded
        moves = [(np.empty(0, np.int64),) * 4]  # (restart, point, old label, new label)
        many = n_stale > dense_fraction * n
        dense = np.flatnonzero(many)
        if len(dense):
            new, d1, d2 = _assign(x, x_sq, block.centers[dense])
            moved, point = np.nonzero(new != labels[dense])
            moves.append((dense[moved], point, labels[dense[moved], point], new[moved, point]))
            labels[dense] = new
            upper[dense] = np.sqrt(d1, out=d1)
            lower[dense] = np.sqrt(d2, out=d2)
        for row in np.flatnonzero(~many & (n_stale > 0)):
            points = np.flatnonzero(stale[row])
            new, d1, d2 = _assign_some(x, x_sq, block.centers[row], points)
            moved = np.flatnonzero(new != labels[row, points])
            moves.append(
                (np.full(len(moved), row), points[moved], labels[row, points[moved]], new[moved])
            )
            labels[row, points] = new
            upper[row, points] = np.sqrt(d1)
            lower[row, points] = np.sqrt(d2)
        moves = [np.concatenate(column) for column in zip(*moves)]
        moved = np.bincount(moves[0], minlength=len(labels))
        if moved.sum() > _MOVED_FRACTION * labels.size:  # many moves: sum afresh
            block.sums = _cluster_sums(x, labels, k)
            block.counts = _count(labels, k)
        elif moved.any():
            block.sums += _moved_sums(x, moves, len(labels), k)
            np.add.at(block.counts, (moves[0], moves[3]), 1)
            np.subtract.at(block.counts, (moves[0], moves[2]), 1)

        done = finishing | (moved == 0) | (iteration == max_iter)
        for row in np.flatnonzero(done):
            i = block.index[row]
            out_centers[i], out_labels[i], n_iter[i] = block.centers[row], labels[row], iteration
            inertia[i] = _inertia(x_sq, block, row)
        if done.all():
            break
        block.keep(~done)
    return {"centers": out_centers, "labels": out_labels, "inertia": inertia, "n_iter": n_iter}


def _inertia(x_sq, block, row):
    """``sum_i ||x_i - c_label||^2 = sum_j (sum_{i in j} ||x_i||^2 - 2 c_j.S_j + n_j ||c_j||^2)``
    with ``S_j`` the sum of cluster j: exact from the kept sums, without any distance."""
    centers = block.centers[row].astype(np.float64)
    squares = np.bincount(block.labels[row], weights=x_sq, minlength=block.k)
    return float(
        np.sum(squares)
        - 2.0 * np.sum(centers * block.sums[row])
        + np.sum(block.counts[row] * np.sum(centers**2, axis=1))
    )


def _relocate_empty(x, block, row):
    """Give each empty cluster of one restart the point farthest from its own centre."""
    labels, counts, sums = block.labels[row], block.counts[row], block.sums[row]
    distances = np.sum((x - block.centers[row][labels]) ** 2, axis=1)
    far = np.argsort(distances, kind="stable")[::-1]
    taken = 0
    for cluster in np.flatnonzero(counts == 0):
        while taken < len(far) and counts[labels[far[taken]]] <= 1:
            taken += 1  # never empty another cluster
        if taken == len(far):
            return
        point = far[taken]
        taken += 1
        source = labels[point]
        sums[source] -= x[point]
        counts[source] -= 1
        sums[cluster] = x[point]
        counts[cluster] = 1
        labels[point] = cluster
        block.upper[row, point] = np.inf  # its bounds no longer hold: recompute it
        block.lower[row, point] = 0.0


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
