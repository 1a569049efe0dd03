"""``ArrayStream``: per-epoch reshuffling, exact coverage, reproducibility, and ``fit``."""

import collections
import pickle

import keras
import numpy as np
import pytest

from keras_latent.datasets.feeding import ArrayStream
from keras_latent.models import Autoencoder
from tests.helpers import TINY


def ids(n):
    """Examples that carry their index: x[i] == i everywhere."""
    return np.arange(n, dtype=np.float32)[:, None]


def epoch_batches(stream):
    """The batches of the stream's current epoch, then advance it as Keras would."""
    batches = [stream[i] for i in range(len(stream))]
    stream.on_epoch_end()
    return batches


def test_each_epoch_is_a_new_order_of_every_example_once():
    stream = ArrayStream(ids(10), batch_size=4, seed=5)
    assert len(stream) == 3
    orders = []
    for _ in range(3):
        batches = epoch_batches(stream)
        assert [len(b) for b in batches] == [4, 4, 2]
        order = np.concatenate(batches)[:, 0].astype(int)
        np.testing.assert_array_equal(np.sort(order), np.arange(10))
        orders.append(order)
    assert not np.array_equal(orders[0], orders[1]) and not np.array_equal(orders[1], orders[2])
    np.testing.assert_array_equal(orders[1], np.random.default_rng([5, 1]).permutation(10))


def test_reproducible_with_a_seed_and_repeatable_within_an_epoch():
    first, second = (
        ArrayStream(ids(50), batch_size=8, seed=1),
        ArrayStream(ids(50), batch_size=8, seed=1),
    )
    for _ in range(2):
        np.testing.assert_array_equal(
            np.concatenate(epoch_batches(first)), np.concatenate(epoch_batches(second))
        )
    np.testing.assert_array_equal(first[3], first[3])  # batches are pure in (seed, epoch, i)
    other = ArrayStream(ids(50), batch_size=8, seed=2)
    assert not np.array_equal(other[0], ArrayStream(ids(50), batch_size=8, seed=1)[0])
    unseeded = ArrayStream(ids(50), batch_size=8, seed=None)
    assert isinstance(unseeded.seed, int) and unseeded.seed >= 0


def test_without_shuffle_the_stored_order():
    stream = ArrayStream(ids(7), batch_size=3, shuffle=False)
    for _ in range(2):
        np.testing.assert_array_equal(np.concatenate(epoch_batches(stream)), ids(7))


def test_drop_remainder():
    stream = ArrayStream(ids(10), batch_size=4, seed=0, drop_remainder=True)
    assert len(stream) == 2
    seen = set()
    for _ in range(6):
        batches = epoch_batches(stream)
        assert [len(b) for b in batches] == [4, 4]
        seen.update(np.concatenate(batches)[:, 0].astype(int).tolist())
    assert seen == set(range(10))  # left-out examples come in later epochs


def test_labels_stay_with_their_images_and_float64_becomes_float32():
    x = np.arange(12, dtype=np.float64).reshape(6, 2)
    stream = ArrayStream(x, y=np.arange(6) * 10, batch_size=4, seed=3)
    xb, yb = stream[0]
    assert xb.dtype == np.float32 and yb.dtype == np.int64
    np.testing.assert_array_equal(yb, xb[:, 0] * 5)


def test_no_copy_of_the_dataset(tmp_path):
    x = ids(100)
    stream = ArrayStream(x, batch_size=10)
    assert np.shares_memory(stream.x, x)
    assert not np.shares_memory(stream[0], x)  # a batch is a gathered copy of 10 rows
    np.save(tmp_path / "x.npy", x)
    mapped = np.load(tmp_path / "x.npy", mmap_mode="r")
    on_disk = ArrayStream(mapped, batch_size=10, seed=4)
    assert isinstance(on_disk.x, np.memmap)
    np.testing.assert_array_equal(on_disk[2], ArrayStream(x, batch_size=10, seed=4)[2])


def test_pickles_for_multiprocessing_workers():
    stream = ArrayStream(ids(9), batch_size=2, seed=7)
    stream.on_epoch_end()
    copy = pickle.loads(pickle.dumps(stream))
    np.testing.assert_array_equal(copy[1], stream[1])


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((np.zeros((0, 2)),), {}, "x is empty"),
        ((3.0,), {}, "got a scalar"),
        ((ids(4), np.arange(3)), {}, "x holds 4 examples but y holds 3"),
        ((ids(4),), {"batch_size": 0}, "batch_size must be an integer >= 1"),
        ((ids(4),), {"batch_size": 2.5}, "batch_size must be an integer >= 1"),
        ((ids(4),), {"seed": -1}, "seed must be an integer >= 0"),
        ((ids(4),), {"batch_size": 8, "drop_remainder": True}, "leaves no batch"),
    ],
)
def test_bad_arguments(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        ArrayStream(*args, **kwargs)


def test_index_out_of_range():
    with pytest.raises(IndexError, match="out of range"):
        ArrayStream(ids(4), batch_size=2)[2]


class LoggedStream(ArrayStream):
    """Records ``(epoch, batch index, example ids)`` of every batch Keras requests."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.log = []

    def __getitem__(self, index):
        batch = super().__getitem__(index)
        x = batch[0] if isinstance(batch, tuple) else batch
        self.log.append((self.epoch, index, np.rint(x[:, 0, 0, 0] * 1000).astype(int).tolist()))
        return batch


def images_with_ids(n):
    """Random images whose pixel (0, 0) encodes the example's index as i / 1000."""
    x = np.random.default_rng(0).uniform(-1, 1, (n, 32, 32, 1)).astype(np.float32)
    x[:, 0, 0, 0] = np.arange(n) / 1000
    return x


@pytest.mark.backend
@pytest.mark.parametrize("workers", [1, 2])
def test_fit_trains_on_every_example_once_per_epoch(workers):
    stream = LoggedStream(images_with_ids(16), batch_size=8, seed=0, workers=workers)
    model = Autoencoder(**TINY, seed=1)
    history = model.fit(stream, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and np.all(np.isfinite(history.history["loss"]))
    per_epoch = collections.defaultdict(list)
    for epoch, index, examples in stream.log:
        per_epoch[epoch].append((index, examples))
    # Epochs whose batches 0, 1, 2 were each requested once (Keras also peeks at the first
    # batches before training, on the epoch before the first on_epoch_end).
    trained = [
        epoch
        for epoch, batches in sorted(per_epoch.items())
        if sorted(index for index, _ in batches) == list(range(len(stream)))
    ]
    assert len(trained) == 2, f"two full epochs requested by fit, got {dict(per_epoch)}"
    orders = []
    for epoch in trained:
        batches = sorted(per_epoch[epoch])
        order = [i for _, examples in batches for i in examples]
        assert sorted(order) == list(range(16))  # every example once
        orders.append(order)
    assert orders[0] != orders[1]


@pytest.mark.backend
def test_fit_with_labels_trains_the_probe():
    """The stream keeps each label with its image through its per-epoch shuffles: on three
    classes a linear probe can tell apart (a bright band at the top, middle or bottom), the
    probe's loss falls and its accuracy ends far above chance (1/3); labels shuffled apart from
    their images would leave it at chance. (Every backend reaches 1.0 by the 5th of 8 epochs.)"""
    y = np.arange(24) % 3
    x = np.random.default_rng(0).uniform(-1, -0.4, (24, 32, 32, 1)).astype(np.float32)
    for image, label in zip(x, y):
        image[10 * label : 10 * label + 10] += 1.2
    stream = ArrayStream(x, y=y, batch_size=8, seed=0)
    model = Autoencoder(**TINY, num_classes=3, seed=1)
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    history = model.fit(stream, epochs=8, verbose=0).history
    assert "reconstruction" in history
    assert history["probe_loss"][-1] < 0.5 * history["probe_loss"][0]
    assert history["probe_accuracy"][-1] > 0.9
