"""SVHN .mat, CIFAR-10 pickles and .npz files, generated small, through ``load``."""

import io
import os
import pickle
import tarfile

import numpy as np
import pytest
from scipy import io as sio

import keras_latent as kl


def scaled(raw):
    return raw.astype(np.float32) / np.float32(127.5) - 1


# ------------------------------------------------------------------------------------ SVHN
def write_svhn(folder, split, n, seed=0, labels=None):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (32, 32, 3, n), dtype=np.uint8)
    labels = rng.integers(1, 11, (n, 1), dtype=np.uint8) if labels is None else labels
    folder.mkdir(parents=True, exist_ok=True)
    sio.savemat(folder / f"{split}_32x32.mat", {"X": images, "y": labels})
    return images.transpose(3, 0, 1, 2), labels


def test_svhn_train_is_train_plus_extra_with_digit_labels(tmp_path):
    train, train_labels = write_svhn(tmp_path / "svhn", "train", 4, seed=0)
    extra, extra_labels = write_svhn(tmp_path / "svhn", "extra", 3, seed=1)
    train_labels[0] = 10
    sio.savemat(
        tmp_path / "svhn" / "train_32x32.mat", {"X": train.transpose(1, 2, 3, 0), "y": train_labels}
    )
    x, y = kl.datasets.load("svhn", "train", data_dir=tmp_path)
    assert x.shape == (7, 32, 32, 3) and x.dtype == np.float32
    np.testing.assert_array_equal(x[:4], scaled(train))
    np.testing.assert_array_equal(x[4:], scaled(extra))
    expected = np.concatenate([train_labels[:, 0], extra_labels[:, 0]]) % 10
    np.testing.assert_array_equal(y, expected)
    assert y[0] == 0 and y.dtype == np.int64


def test_svhn_test(tmp_path):
    images, labels = write_svhn(tmp_path, "test", 5)
    x, y = kl.datasets.load("svhn", "test", data_dir=tmp_path)
    np.testing.assert_array_equal(x, scaled(images))
    np.testing.assert_array_equal(y, labels[:, 0] % 10)


def test_svhn_train_without_extra_names_the_missing_file(tmp_path):
    write_svhn(tmp_path, "train", 2)
    with pytest.raises(FileNotFoundError, match="but not extra_32x32.mat"):
        kl.datasets.load("svhn", "train", data_dir=tmp_path)


def test_svhn_label_count_mismatch(tmp_path):
    write_svhn(tmp_path, "test", 5, labels=np.ones((4, 1), np.uint8))
    with pytest.raises(ValueError, match="test_32x32.mat holds 4 labels for 5 images"):
        kl.datasets.load("svhn", "test", data_dir=tmp_path)


def test_svhn_bad_files(tmp_path):
    (tmp_path / "test_32x32.mat").write_bytes(b"not a mat file at all" * 10)
    with pytest.raises(ValueError, match="test_32x32.mat is not a readable MATLAB file"):
        kl.datasets.load("svhn", "test", data_dir=tmp_path)
    sio.savemat(tmp_path / "test_32x32.mat", {"X": np.zeros((28, 28, 3, 2), np.uint8)})
    with pytest.raises(ValueError, match=r"test_32x32.mat: expected a variable X of shape"):
        kl.datasets.load("svhn", "test", data_dir=tmp_path)
    write_svhn(tmp_path, "test", 2, labels=np.array([[0], [3]], np.uint8))
    with pytest.raises(ValueError, match=r"SVHN labels must lie in 1..10"):
        kl.datasets.load("svhn", "test", data_dir=tmp_path)


# -------------------------------------------------------------------------------- CIFAR-10
def cifar_batch(n, seed):
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
    labels = [int(v) for v in rng.integers(0, 10, n)]
    return {b"batch_label": b"x", b"data": data, b"labels": labels, b"filenames": [b"a"] * n}


def write_cifar(folder, names, n=3):
    folder.mkdir(parents=True, exist_ok=True)
    batches = {}
    for seed, name in enumerate(names):
        batches[name] = cifar_batch(n, seed)
        (folder / name).write_bytes(pickle.dumps(batches[name], protocol=2))
    return batches


def expected_cifar(batches):
    data = np.concatenate([b[b"data"] for b in batches])
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return scaled(images), np.concatenate([b[b"labels"] for b in batches])


TRAIN = [f"data_batch_{i}" for i in range(1, 6)]


@pytest.mark.parametrize("layout", ["batches-folder", "direct"])
def test_cifar10_train_and_test(tmp_path, layout):
    folder = tmp_path / "cifar-10-batches-py" if layout == "batches-folder" else tmp_path
    batches = write_cifar(folder, TRAIN + ["test_batch"])
    x, y = kl.datasets.load("cifar10", "train", data_dir=tmp_path)
    images, labels = expected_cifar([batches[name] for name in TRAIN])
    assert x.shape == (15, 32, 32, 3) and x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, labels)
    # channel order: the first 1024 values of a row are the red plane
    np.testing.assert_array_equal(
        x[0, :, :, 0].ravel(), scaled(batches[TRAIN[0]][b"data"][0, :1024])
    )
    x, y = kl.datasets.load("cifar10", "test", data_dir=tmp_path)
    np.testing.assert_array_equal(x, expected_cifar([batches["test_batch"]])[0])


def test_cifar10_from_the_distributed_archive(tmp_path):
    batches = write_cifar(tmp_path / "src" / "cifar-10-batches-py", ["test_batch"])
    with tarfile.open(tmp_path / "cifar-10-python.tar.gz", "w:gz") as tar:
        tar.add(tmp_path / "src" / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    os.rename(tmp_path / "src", tmp_path.parent / f"{tmp_path.name}-moved")
    x, y = kl.datasets.load("cifar10", "test", data_dir=tmp_path)
    np.testing.assert_array_equal(x, expected_cifar([batches["test_batch"]])[0])
    with pytest.raises(ValueError, match=r"cifar-10-python.tar.gz lacks data_batch_1"):
        kl.datasets.load("cifar10", "train", data_dir=tmp_path)


def test_cifar10_missing_batch_is_named(tmp_path):
    write_cifar(tmp_path / "cifar-10-batches-py", TRAIN[:4])
    with pytest.raises(FileNotFoundError, match="but not data_batch_5"):
        kl.datasets.load("cifar10", "train", data_dir=tmp_path)


def test_cifar10_bad_batches(tmp_path):
    write_cifar(tmp_path, ["test_batch"])
    path = tmp_path / "test_batch"
    path.write_bytes(path.read_bytes()[:500])
    with pytest.raises(ValueError, match="test_batch is not a CIFAR-10 python batch"):
        kl.datasets.load("cifar10", "test", data_dir=tmp_path)
    batch = cifar_batch(3, 0)
    batch[b"labels"] = batch[b"labels"][:2]
    path.write_bytes(pickle.dumps(batch))
    with pytest.raises(ValueError, match="test_batch holds 2 labels for 3 images"):
        kl.datasets.load("cifar10", "test", data_dir=tmp_path)


class Evil:
    def __reduce__(self):
        return (os.system, ("echo should-not-run",))


def test_cifar10_pickles_cannot_run_code(tmp_path):
    path = tmp_path / "test_batch"
    path.write_bytes(pickle.dumps({b"data": Evil(), b"labels": []}))
    with pytest.raises(ValueError, match="refusing to load"):
        kl.datasets.load("cifar10", "test", data_dir=tmp_path)


# ------------------------------------------------------------------------------------- npz
def test_npz_split_file_with_uint8_originals(tmp_path):
    raw = np.random.default_rng(0).integers(0, 256, (4, 28, 28), dtype=np.uint8)
    np.savez(tmp_path / "fashion_mnist_test.npz", x=raw, y=np.arange(4))
    x, y = kl.datasets.load("fashion_mnist", "test", data_dir=tmp_path)
    assert x.shape == (4, 32, 32, 1)
    np.testing.assert_array_equal(x[:, 2:30, 2:30, 0], scaled(raw))
    np.testing.assert_array_equal(y, np.arange(4))


def test_npz_in_the_layout_of_keras_mnist_npz(tmp_path):
    rng = np.random.default_rng(1)
    arrays = {
        "x_train": rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
        "y_train": np.array([1, 2, 3], np.uint8),
        "x_test": rng.integers(0, 256, (2, 28, 28), dtype=np.uint8),
        "y_test": np.array([7, 8], np.uint8),
    }
    np.savez_compressed(tmp_path / "mnist.npz", **arrays)
    x, y = kl.datasets.load("mnist", "test", data_dir=tmp_path)
    np.testing.assert_array_equal(x[:, 2:30, 2:30, 0], scaled(arrays["x_test"]))
    np.testing.assert_array_equal(y, [7, 8])


def test_npz_with_preprocessed_floats_is_taken_as_is(tmp_path):
    x_in = np.random.default_rng(2).uniform(-1, 1, (3, 32, 32, 3)).astype(np.float32)
    np.savez(tmp_path / "cifar10_train.npz", x=x_in, y=np.array([0, 1, 2]))
    x, y = kl.datasets.load("cifar10", data_dir=tmp_path)
    np.testing.assert_array_equal(x, x_in)


def test_npz_celeba_has_no_labels(tmp_path):
    np.savez(tmp_path / "celeba32_all.npz", x=np.zeros((2, 218, 178, 3), np.uint8))
    x, y = kl.datasets.load("celeba32", "all", data_dir=tmp_path)
    assert x.shape == (2, 32, 32, 3) and y is None
    assert np.allclose(x, -1)


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"x": np.zeros((2, 28, 28), np.uint8)}, r"lacks the array\(s\) y"),
        ({"x": np.zeros((2, 32, 32), np.uint8), "y": [0, 1]}, "uint8 images of shape"),
        ({"x": np.zeros((2, 28, 28, 1)), "y": [0, 1]}, "float images of shape"),
        ({"x": np.full((2, 32, 32, 1), 3.0), "y": [0, 1]}, r"outside \[-1, 1\]"),
        ({"x": np.zeros((2, 28, 28), np.int32), "y": [0, 1]}, "dtype int32"),
        ({"x": np.zeros((2, 28, 28), np.uint8), "y": [0, 1, 2]}, "3 labels for 2 images"),
        ({"x": np.zeros((2, 28, 28), np.uint8), "y": [0.5, 1]}, "labels must be integers"),
    ],
)
def test_npz_bad_contents_name_the_file(tmp_path, arrays, message):
    np.savez(tmp_path / "mnist_train.npz", **arrays)
    with pytest.raises(ValueError, match=f"mnist_train.npz.*{message}|{message}.*mnist_train"):
        kl.datasets.load("mnist", data_dir=tmp_path)


def test_npz_that_is_not_an_npz(tmp_path):
    (tmp_path / "mnist_train.npz").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="mnist_train.npz is not a valid .npz file"):
        kl.datasets.load("mnist", data_dir=tmp_path)
    buffer = io.BytesIO()
    np.savez(buffer, x=np.array([object()], dtype=object), y=np.zeros(1))
    (tmp_path / "mnist_train.npz").write_bytes(buffer.getvalue())
    with pytest.raises(ValueError, match="mnist_train.npz is not a valid .npz file"):
        kl.datasets.load("mnist", data_dir=tmp_path)


def test_cifar10_python2_pickles_reference_numpy_core(tmp_path):
    """The distributed batches were pickled by Python 2 with ``numpy.core.multiarray``."""
    payload = pickle.dumps(cifar_batch(2, 0), protocol=2)
    assert b"numpy._core.multiarray" in payload
    (tmp_path / "test_batch").write_bytes(
        payload.replace(b"numpy._core.multiarray", b"numpy.core.multiarray")
    )
    x, y = kl.datasets.load("cifar10", "test", data_dir=tmp_path)
    assert x.shape == (2, 32, 32, 3)
