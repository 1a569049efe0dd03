"""Feeding in-memory arrays to ``fit`` on every backend: :class:`ArrayStream`.

A ``keras.utils.PyDataset``, so Keras' own adapters serve it on TensorFlow, JAX and PyTorch,
and no ``tf.data`` pipeline is built in user code.

No autotune stalls: on TensorFlow, ``fit`` on a ``tf.data`` pipeline with autotuning on can
return seconds after its last step (5-20 s seen), when the pipeline's iterator is destroyed at
a tick of tf.data's autotuning timer. Keras turns a ``PyDataset`` into
``tf.data.Dataset.from_generator(...).prefetch(AUTOTUNE)`` (autotune on) when it has a single
worker, but, with ``workers > 1``, prefetches on its own thread pool (``OrderedEnqueuer``)
and switches tf.data's autotuning off. The project's streams (``ArrayStream``,
``LinesStream``, ``training.StepStream``) therefore default to ``workers=STREAM_WORKERS = 2``
threads (their batches are a pure function of the seed, epoch and index, so workers do not
change them); ``Autoencoder.fit`` applies :func:`without_autotune` to a ``tf.data.Dataset``.
Numpy arrays handed to ``fit`` go through Keras' own array pipeline (autotune on): use an
``ArrayStream`` for long runs. ``benchmarks/fit_stall.py`` measures it.
"""

import math
import operator
import threading

import keras
import numpy as np

STREAM_WORKERS = 2  # threads; > 1 makes Keras disable tf.data autotuning (module docstring)


def without_autotune(data):
    """``data.with_options(autotune off)`` if ``data`` is a ``tf.data.Dataset``, else ``data``
    unchanged (TensorFlow is not imported for other data)."""
    if not any(
        cls.__module__.startswith("tensorflow") and cls.__name__ == "DatasetV2"
        for cls in type(data).__mro__
    ):
        return data
    import tensorflow as tf

    options = tf.data.Options()
    options.autotune.enabled = False
    return data.with_options(options)


class ArrayStream(keras.utils.PyDataset):
    """Shuffled batches of arrays for ``fit``: each epoch a new order, every example once.

    Epoch ``e`` visits the examples in the order ``np.random.default_rng([seed, e])
    .permutation(n)`` (the identity when ``shuffle=False``); batch ``i`` gathers the examples
    ``order[i * batch_size : (i + 1) * batch_size]`` by fancy indexing, so one epoch never
    copies the whole dataset, only one batch at a time (a ``np.memmap`` is read batch by batch).
    ``e`` counts the calls of ``on_epoch_end``, which Keras makes at the end of every epoch
    (and once when ``fit`` starts); batches are a pure function of ``(seed, e, i)``, so they are
    the same whatever the workers, prefetching or batch order Keras uses. Use it with
    ``fit(..., steps_per_epoch=None)`` (the default): a ``steps_per_epoch`` other than
    ``len(stream)`` cuts epochs where Keras' epoch ends. ``fit``'s own ``shuffle=True`` (its
    default) also shuffles the order of the batches within an epoch with Python's ``random``
    (seeded by ``keras.utils.set_random_seed``); pass ``shuffle=False`` to ``fit`` for a batch
    order that depends on the stream's seed alone.

    Args:
        x: array ``(n, ...)``; float64 batches are converted to float32.
        y: optional array ``(n, ...)`` (labels); batches are then ``(x, y)``.
        batch_size: examples per batch (>= 1).
        shuffle: reshuffle each epoch (else the stored order every epoch).
        seed: non-negative integer, or None for a random seed drawn once.
        drop_remainder: leave out the last, smaller batch of an epoch (its examples are seen
            in later epochs); by default it is served, so every example is seen every epoch
            (on TensorFlow and JAX a smaller last batch costs one more trace of the step).
        **kwargs: ``workers``, ``use_multiprocessing``, ``max_queue_size`` of
            ``keras.utils.PyDataset``: ``workers=2`` (the default here, ``STREAM_WORKERS``)
            prefetches batches on threads (numpy releases the GIL while gathering) and keeps
            TensorFlow's ``fit`` free of tf.data autotune stalls; multiprocessing pickles the
            arrays to every worker process, so prefer threads.
    """

    def __init__(
        self, x, y=None, batch_size=64, shuffle=True, seed=0, drop_remainder=False, **kwargs
    ):
        super().__init__(**{"workers": STREAM_WORKERS, **kwargs})
        self.x = _as_array(x, "x")
        self.y = None if y is None else _as_array(y, "y")
        n = len(self.x)
        if n == 0:
            raise ValueError("x is empty: ArrayStream needs at least one example")
        if self.y is not None and len(self.y) != n:
            raise ValueError(f"x holds {n} examples but y holds {len(self.y)}: they must match")
        self.batch_size = _check_int("batch_size", batch_size, 1)
        if seed is None:
            seed = int(np.random.SeedSequence().entropy % 2**63)
        self.seed = _check_int("seed", seed, 0)
        self.shuffle = bool(shuffle)
        self.drop_remainder = bool(drop_remainder)
        if self.drop_remainder and n < self.batch_size:
            raise ValueError(
                f"drop_remainder=True with {n} examples and batch_size {self.batch_size} "
                f"leaves no batch"
            )
        self.epoch = 0
        self._lock = threading.Lock()
        self._order = (None, None)  # (epoch, permutation) cached for the current epoch

    def __len__(self):
        n = len(self.x)
        return n // self.batch_size if self.drop_remainder else math.ceil(n / self.batch_size)

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"batch {index} out of range: the stream has {len(self)} batches")
        rows = self.order(self.epoch)[index * self.batch_size : (index + 1) * self.batch_size]
        x = self.x[rows]
        if x.dtype == np.float64:
            x = x.astype(np.float32)
        return x if self.y is None else (x, self.y[rows])

    def order(self, epoch):
        """The example order of ``epoch`` (the identity without shuffling)."""
        with self._lock:
            cached_epoch, order = self._order
            if cached_epoch != epoch:
                n = len(self.x)
                if self.shuffle:
                    order = np.random.default_rng([self.seed, epoch]).permutation(n)
                else:
                    order = np.arange(n)
                self._order = (epoch, order)
            return order

    def on_epoch_end(self):
        self.epoch += 1

    def __getstate__(self):  # for use_multiprocessing: locks do not pickle
        state = self.__dict__.copy()
        del state["_lock"]
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.Lock()


def _as_array(value, name):
    if not isinstance(value, np.ndarray):  # numpy arrays (np.memmap included) are not copied
        value = np.asarray(value)
    if value.ndim == 0:
        raise ValueError(f"{name} must be an array of examples (n, ...), got a scalar")
    return value


def _check_int(name, value, minimum):
    try:
        value = operator.index(value)
    except TypeError:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}") from None
    if isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value
