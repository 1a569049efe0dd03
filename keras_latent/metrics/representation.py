"""Representation evaluation of the ACAI paper: a linear probe and K-means on frozen latents.

Both take a model with ``encode(x) -> latents`` and ``(x, y)`` pairs of images and integer
labels; the ``*_from_latents`` variants take latents already computed (flattened to
``(n, d_z)``). Nothing is fitted on the test split.

- :func:`linear_probe_accuracy`: one dense layer with softmax (``logits = z W + b``) trained
  with cross-entropy on the train latents, test accuracy. Two protocols: ``"fast"`` (default:
  standardised latents, 50 epochs of constant ``Adam(1e-4)``, this project's choice) and
  ``"official"``, the official ``classify_latent_ae.py``: raw latents, 2^24 images in batches
  of 64 (262,144 steps), ``Adam`` at 1e-4 decayed exponentially to a tenth at the halfway
  step (``1e-4 * 0.1 ** (step / 131072)``, TensorFlow's ``exponential_decay`` without
  staircase), final test accuracy. The paper also trains a probe alongside the autoencoder
  (``Autoencoder`` with ``num_classes``); these are probes trained afterwards on the final,
  frozen latents.
- :func:`clustering_accuracy`: latents centred and SVD-whitened with train statistics,
  K-means on the train latents (the first 60,000, as the official ``cluster.py``;
  :mod:`keras_latent.metrics.kmeans`, the paper's 1000 random restarts by default), each
  test latent given its nearest centre, accuracy of the best one-to-one matching of
  clusters to labels (Hungarian algorithm, :func:`cluster_accuracy`).
"""

import time

import keras
import numpy as np
from scipy.optimize import linear_sum_assignment
from threadpoolctl import threadpool_limits

from keras_latent.metrics import kmeans as _kmeans

PROBE_LEARNING_RATE = 1e-4
PROBE_EPOCHS = 50
PROBE_BATCH_SIZE = 64
PROBE_STEPS_PER_EXECUTION = 50
PROBE_PROTOCOLS = ("fast", "official")
OFFICIAL_PROBE_IMAGES = 2**24
OFFICIAL_CHUNK_STEPS = 2048  # batches of the official probe's stream fitted per array
"""Images the official frozen-latent probe trains on (``total_kimg = 1 << 14``)."""
OFFICIAL_CLUSTER_IMAGES = 60_000
"""Train images the official ``cluster.py`` whitens and clusters: the first 60,000, in file
order (all of MNIST's and CIFAR-10's; for SVHN the first 60,000 of ``train``, before
``extra``)."""
WHITENING_RTOL = 1e-5  # singular values below this fraction of the largest are dropped


# --------------------------------------------------------------------------- checking input
def _split_pair(pair, name):
    if not isinstance(pair, (tuple, list)) or len(pair) != 2:
        raise TypeError(f"{name} must be an (x, y) pair of images and labels")
    return pair


def check_latents(z, what="latents"):
    """Latents as a float32 array (n, d): any (n, ...) array is flattened; finite, non-empty."""
    try:
        z = np.asarray(z, dtype=np.float32)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{what} could not be converted to a float array: {error}") from error
    if z.ndim < 2 or len(z) == 0:
        raise ValueError(f"{what} must have shape (n, ...) with n >= 1, got {z.shape}")
    z = z.reshape(len(z), -1)
    if not np.all(np.isfinite(z)):
        bad = int(np.sum(~np.isfinite(z).all(axis=1)))
        raise ValueError(f"{what} contain NaN or infinite values ({bad} of {len(z)} codes)")
    return z


def check_class_labels(y, n, what="labels"):
    """Integer labels of shape (n,) (an (n, 1) column is accepted), all >= 0."""
    labels = np.asarray(y)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1:
        raise ValueError(f"{what} must have shape (n,), got {labels.shape}")
    if len(labels) != n:
        raise ValueError(f"{what} hold {len(labels)} labels for {n} examples")
    if not np.issubdtype(labels.dtype, np.number) or np.issubdtype(
        labels.dtype, np.complexfloating
    ):
        raise TypeError(f"{what} must be integer class indices, got dtype {labels.dtype}")
    if not np.issubdtype(labels.dtype, np.integer):
        if not np.all(np.isfinite(labels)) or np.any(labels != np.round(labels)):
            raise ValueError(f"{what} must be integer class indices")
    labels = labels.astype(np.int64)
    if labels.size and labels.min() < 0:
        raise ValueError(f"{what} must be >= 0, got {labels.min()}")
    return labels


def encode_flat(model, x, batch_size=256, what="images"):
    """``model.encode(x)`` flattened to (n, d_z) float32, checked finite."""
    if not hasattr(model, "encode"):
        raise TypeError(f"model must have an encode(x) method, got {type(model).__name__}")
    return check_latents(model.encode(x, batch_size=batch_size), f"latents of the {what}")


def _encode_pairs(model, train, test, batch_size):
    x_train, y_train = _split_pair(train, "train")
    x_test, y_test = _split_pair(test, "test")
    z_train = encode_flat(model, x_train, batch_size, "train images")
    z_test = encode_flat(model, x_test, batch_size, "test images")
    return z_train, y_train, z_test, y_test


# ---------------------------------------------------------------------------- linear probe
def linear_probe_accuracy(
    model,
    train,
    test,
    num_classes=None,
    epochs=PROBE_EPOCHS,
    batch_size=PROBE_BATCH_SIZE,
    learning_rate=PROBE_LEARNING_RATE,
    standardize=True,
    seed=0,
    return_details=False,
    encode_batch_size=256,
    protocol="fast",
    images=OFFICIAL_PROBE_IMAGES,
):
    """Test accuracy of a single dense softmax layer trained on ``model``'s frozen latents.

    Args:
        model: has ``encode(x)``; its weights are not changed.
        train, test: ``(images, integer labels)`` pairs.
        num_classes: number of classes (default: ``max label + 1`` over both splits).
        protocol: ``"fast"`` (default) or ``"official"`` (the official ``classify_latent_ae.py``;
            see the module docstring). ``"official"`` ignores ``epochs`` and ``standardize``
            (raw latents) and trains on ``images`` examples (default 2^24) in
            ``images // batch_size`` steps, the learning rate decayed to a tenth at the halfway
            step; ``images`` must cover at least one pass over the train latents.
        epochs, batch_size: ``"fast"``: 50 epochs of 64 with constant ``Adam(1e-4,
            epsilon=1e-8)``, about 47,000 steps on MNIST's 60,000 images, this project's
            choice. Adam at 1e-4 converges slowly: on the features of an *untrained* ACAI
            encoder (d_z 256, a hard case) MNIST test accuracy was 94.7% after 10 epochs, 96.9%
            after 50 and 97.4% after 100 (``benchmarks/probe_epochs.py``); raise ``epochs``
            where it matters.
        standardize: ``"fast"``: divide each latent dimension by its train standard deviation
            after subtracting its train mean (default; our choice, not the official code's).
            The probe is affine, so this changes only how fast Adam converges, not which
            classifiers it can reach.
        seed: seeds the layer's initial weights and the order of the examples.
        return_details: return a dict with ``test_accuracy``, ``train_accuracy`` and the
            settings, instead of the test accuracy alone.
    """
    z_train, y_train, z_test, y_test = _encode_pairs(model, train, test, encode_batch_size)
    return linear_probe_accuracy_from_latents(
        z_train,
        y_train,
        z_test,
        y_test,
        num_classes=num_classes,
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        standardize=standardize,
        seed=seed,
        return_details=return_details,
        protocol=protocol,
        images=images,
    )


def linear_probe_accuracy_from_latents(
    z_train,
    y_train,
    z_test,
    y_test,
    num_classes=None,
    epochs=PROBE_EPOCHS,
    batch_size=PROBE_BATCH_SIZE,
    learning_rate=PROBE_LEARNING_RATE,
    standardize=True,
    seed=0,
    return_details=False,
    protocol="fast",
    images=OFFICIAL_PROBE_IMAGES,
):
    """:func:`linear_probe_accuracy` on latents already computed, ``(n, ...)`` arrays."""
    if protocol not in PROBE_PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROBE_PROTOCOLS}, got {protocol!r}")
    z_train = check_latents(z_train, "train latents")
    z_test = check_latents(z_test, "test latents")
    if z_train.shape[1] != z_test.shape[1]:
        raise ValueError(
            f"train and test latents differ in size ({z_train.shape[1]} != {z_test.shape[1]})"
        )
    y_train = check_class_labels(y_train, len(z_train), "train labels")
    y_test = check_class_labels(y_test, len(z_test), "test labels")
    seen = int(max(y_train.max(), y_test.max())) + 1
    num_classes = seen if num_classes is None else int(num_classes)
    if num_classes < 2:
        raise ValueError(f"a probe needs at least 2 classes, got {num_classes}")
    if seen > num_classes:
        raise ValueError(f"labels go up to {seen - 1}, beyond num_classes={num_classes}")
    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        if int(value) < 1:
            raise ValueError(f"{name} must be >= 1, got {value}")
    batch_size = int(batch_size)
    standardize = bool(standardize) and protocol == "fast"  # the official probe reads raw codes
    if standardize:
        mean = z_train.mean(axis=0)
        std = z_train.std(axis=0)
        std = np.where(std > 0, std, 1.0)
        z_train = (z_train - mean) / std
        z_test = (z_test - mean) / std
    if protocol == "official":
        if int(images) < len(z_train):
            raise ValueError(
                f"the official probe's budget must cover one pass over the {len(z_train)} "
                f"train latents, got images={images}"
            )
        steps = int(images) // batch_size
        schedule = keras.optimizers.schedules.ExponentialDecay(
            learning_rate, decay_steps=max(steps // 2, 1), decay_rate=0.1
        )
        settings = {"protocol": protocol, "images": steps * batch_size, "steps": steps}
        per_execution = _divisor_up_to(steps, 1024)
    else:
        schedule = learning_rate
        settings = {"protocol": protocol, "epochs": int(epochs)}
        per_execution = PROBE_STEPS_PER_EXECUTION

    probe = keras.Sequential(
        [
            keras.Input((z_train.shape[1],)),
            keras.layers.Dense(
                num_classes, kernel_initializer=keras.initializers.GlorotUniform(seed=seed)
            ),
        ],
        name="linear_probe",
    )
    probe.compile(
        optimizer=keras.optimizers.Adam(schedule, epsilon=1e-8),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
        # several steps per call where the backend allows it (not PyTorch): less overhead
        steps_per_execution=1 if keras.backend.backend() == "torch" else per_execution,
    )
    # One thread for BLAS and OpenMP: a single dense layer gains nothing from more, and on a
    # busy CPU PyTorch's waiting threads made each step 20 times slower.
    with threadpool_limits(1):
        start = time.perf_counter()
        if protocol == "official":
            # The stream in chunks of whole executions, each fitted from arrays: a Python
            # data source per batch of 64 cost 50 times the step itself.
            chunk = per_execution * max(1, OFFICIAL_CHUNK_STEPS // per_execution)
            for rows in _stream_chunks(len(z_train), batch_size, steps, chunk, seed):
                probe.fit(
                    z_train[rows], y_train[rows], batch_size=batch_size, shuffle=False, verbose=0
                )
        else:
            probe.fit(_Shuffled(z_train, y_train, batch_size, seed), epochs=int(epochs), verbose=0)
        seconds = time.perf_counter() - start
        test_accuracy = _accuracy(probe, z_test, y_test)
        train_accuracy = _accuracy(probe, z_train, y_train) if return_details else None
    if not return_details:
        return test_accuracy
    return {
        "test_accuracy": test_accuracy,
        "train_accuracy": train_accuracy,
        "num_classes": num_classes,
        **settings,
        "optimizer_steps": int(keras.ops.convert_to_numpy(probe.optimizer.iterations)),
        "batch_size": batch_size,
        "learning_rate": float(learning_rate),
        "final_learning_rate": float(keras.ops.convert_to_numpy(probe.optimizer.learning_rate)),
        "standardize": standardize,
        "fit_time_s": round(seconds, 2),
    }


class _Shuffled(keras.utils.PyDataset):
    """Batches of ``(z, y)`` in a new seeded order every epoch (Keras' own shuffle draws from
    the global random state)."""

    def __init__(self, z, y, batch_size, seed):
        super().__init__()
        self.z, self.y, self.batch_size = z, y, batch_size
        self.rng = np.random.default_rng(seed)
        self.order = self.rng.permutation(len(z))

    def __len__(self):
        return -(-len(self.z) // self.batch_size)

    def __getitem__(self, index):
        rows = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        return self.z[rows], self.y[rows]

    def on_epoch_end(self):
        self.order = self.rng.permutation(len(self.z))


def _stream_rows(n, seed, start, stop):
    """Rows of ``n`` train latents at positions ``[start, stop)`` of the official probe's
    endless stream of shuffled passes: position k is row ``permutation_e[k mod n]`` of pass
    ``e = k // n``, each pass permuted by ``default_rng([seed, e])`` (the official code's
    repeated, shuffled data); a batch may span two passes."""
    passes, offsets = np.divmod(np.arange(start, stop), n)
    rows = np.empty(len(offsets), dtype=np.int64)
    for epoch in np.unique(passes):
        here = passes == epoch
        rows[here] = np.random.default_rng([seed, int(epoch)]).permutation(n)[offsets[here]]
    return rows


def _stream_chunks(n, batch_size, steps, chunk_steps, seed):
    """The rows of ``steps`` batches of the stream (:func:`_stream_rows`), ``chunk_steps``
    batches at a time."""
    for first in range(0, steps, chunk_steps):
        last = min(first + chunk_steps, steps)
        yield _stream_rows(n, seed, first * batch_size, last * batch_size)


def _divisor_up_to(steps, limit):
    """The largest divisor of ``steps`` not above ``limit`` (whole executions per fit)."""
    return max(d for d in range(1, min(steps, limit) + 1) if steps % d == 0)


def _accuracy(probe, z, y):
    logits = probe.predict(z, batch_size=4096, verbose=0)
    return float(np.mean(np.argmax(logits, axis=1) == y))


# ------------------------------------------------------------------------------ clustering
class Whitening:
    """Centre and SVD-whiten with the statistics of ``z`` (n, d).

    ``transform(z) = (z - mean) V^T / (s / sqrt(n))`` with ``z_c = U diag(s) V`` the thin SVD
    of the centred data, so the whitened train latents have zero mean and identity
    covariance (the official code divides by ``s + 1e-5`` instead: the same up to a scale,
    which K-means ignores). Directions with ``s < 1e-5 * max(s)`` carry only rounding noise
    and are dropped (our choice); ``rank`` is the number kept.
    """

    def __init__(self, z):
        z = check_latents(z, "latents to whiten").astype(np.float64)
        if len(z) < 2:
            raise ValueError("whitening needs at least 2 latents")
        self.mean = z.mean(axis=0)
        _, s, vt = np.linalg.svd(z - self.mean, full_matrices=False)
        keep = s > WHITENING_RTOL * s[0] if s[0] > 0 else np.zeros(len(s), dtype=bool)
        if not keep.any():
            raise ValueError("the latents are all identical: nothing to cluster")
        self.components = vt[keep]
        self.scales = s[keep] / np.sqrt(len(z))
        self.rank = int(keep.sum())

    def transform(self, z):
        z = check_latents(z).astype(np.float64)
        return ((z - self.mean) @ self.components.T) / self.scales


def cluster_accuracy(labels, clusters):
    """Accuracy of the best one-to-one matching of cluster ids to labels (Hungarian).

    ``max over matchings m of mean(m(clusters) == labels)``, the matching found by
    ``scipy.optimize.linear_sum_assignment`` on the cluster-by-label contingency table. Any
    integer ids work; with more clusters than labels (or fewer), unmatched ones count as
    errors.
    """
    labels = check_class_labels(labels, len(np.asarray(labels)), "labels")
    clusters = check_class_labels(clusters, len(np.asarray(clusters)), "clusters")
    if len(labels) != len(clusters):
        raise ValueError(f"{len(labels)} labels but {len(clusters)} cluster assignments")
    if len(labels) == 0:
        raise ValueError("no labels to match")
    _, label_ids = np.unique(labels, return_inverse=True)
    _, cluster_ids = np.unique(clusters, return_inverse=True)
    table = np.zeros((cluster_ids.max() + 1, label_ids.max() + 1), dtype=np.int64)
    np.add.at(table, (cluster_ids, label_ids), 1)
    rows, cols = linear_sum_assignment(table, maximize=True)
    return float(table[rows, cols].sum() / len(labels))


def clustering_accuracy(
    model,
    train,
    test,
    n_clusters=10,
    n_init=1000,
    init="random",
    max_iter=1000,
    seed=0,
    return_details=False,
    encode_batch_size=256,
    fit_images=OFFICIAL_CLUSTER_IMAGES,
):
    """Test accuracy of K-means on ``model``'s whitened latents (the paper's protocol).

    Only the first ``fit_images`` train images are encoded and used (default 60,000, the
    official ``cluster.py``; ``None`` for all of them).
    Centre and SVD-whiten with the train latents (:class:`Whitening`), run K-means on them
    (:func:`keras_latent.metrics.kmeans.kmeans`: ``n_init`` restarts, default the paper's
    1000 with random initialisation; the lowest-inertia one wins), give each test latent its
    nearest centre and score with :func:`cluster_accuracy`. ``return_details`` returns a dict
    with the train accuracy, the inertia, the rank kept by the whitening and the time taken.
    """
    x_train, y_train = _split_pair(train, "train")
    if fit_images is not None:
        x_train, y_train = x_train[: _check_fit_images(fit_images)], y_train[:fit_images]
    z_train, y_train, z_test, y_test = _encode_pairs(
        model, (x_train, y_train), test, encode_batch_size
    )
    return clustering_accuracy_from_latents(
        z_train,
        y_train,
        z_test,
        y_test,
        n_clusters=n_clusters,
        n_init=n_init,
        init=init,
        max_iter=max_iter,
        seed=seed,
        return_details=return_details,
        fit_images=None,
    )


def clustering_accuracy_from_latents(
    z_train,
    y_train,
    z_test,
    y_test,
    n_clusters=10,
    n_init=1000,
    init="random",
    max_iter=1000,
    seed=0,
    return_details=False,
    fit_images=OFFICIAL_CLUSTER_IMAGES,
):
    """:func:`clustering_accuracy` on latents already computed, ``(n, ...)`` arrays; only the
    first ``fit_images`` train latents are used (``None``: all)."""
    if fit_images is not None:
        fit_images = _check_fit_images(fit_images)
        z_train, y_train = z_train[:fit_images], y_train[:fit_images]
    z_train = check_latents(z_train, "train latents")
    z_test = check_latents(z_test, "test latents")
    if z_train.shape[1] != z_test.shape[1]:
        raise ValueError(
            f"train and test latents differ in size ({z_train.shape[1]} != {z_test.shape[1]})"
        )
    y_train = check_class_labels(y_train, len(z_train), "train labels")
    y_test = check_class_labels(y_test, len(z_test), "test labels")
    _kmeans.check_points(z_train, n_clusters, "train latents")
    start = time.perf_counter()
    whitening = Whitening(z_train)
    w_train, w_test = whitening.transform(z_train), whitening.transform(z_test)
    result = _kmeans.kmeans(
        w_train, n_clusters, n_init=n_init, init=init, max_iter=max_iter, seed=seed
    )
    test_accuracy = cluster_accuracy(y_test, _kmeans.predict(w_test, result.centers))
    if not return_details:
        return test_accuracy
    return {
        "test_accuracy": test_accuracy,
        "train_accuracy": cluster_accuracy(y_train, result.labels),
        "n_clusters": int(n_clusters),
        "n_init": int(n_init),
        "init": init,
        "inertia": result.inertia,
        "iterations_mean_max": [float(result.n_iters.mean()), int(result.n_iters.max())],
        "whitened_rank": whitening.rank,
        "train_latents": len(z_train),
        "time_s": round(time.perf_counter() - start, 2),
    }


def _check_fit_images(fit_images):
    if isinstance(fit_images, bool) or not isinstance(fit_images, (int, np.integer)):
        raise TypeError(f"fit_images must be a positive integer or None, got {fit_images!r}")
    if fit_images < 1:
        raise ValueError(f"fit_images must be a positive integer or None, got {fit_images}")
    return int(fit_images)
