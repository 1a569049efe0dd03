"""``keras_latent.datasets.load``: real MNIST, small generated IDX folders, search order, the
lines dataset, and bad input (each error names its file; nothing half-loaded).
"""

import gzip
import hashlib
import math
import re
import warnings

import numpy as np
import pytest

import keras_latent as kl
from keras_latent.datasets import images, lines
from keras_latent.datasets.formats import MNIST_MD5, ChecksumWarning
from keras_latent.datasets.idx import write_idx

# Published facts of MNIST (also in ../shared/data/mnist/README.md, checked against it below).
MNIST_COUNTS = {"train": 60000, "test": 10000}
MNIST_HISTOGRAMS = {
    "train": [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949],
    "test": [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009],
}
STEMS = {"train": "train", "test": "t10k"}


def write_mnist_folder(folder, n=6, split="train", suffix=".gz", size=28, labels=None, seed=0):
    """A small MNIST-format folder; returns the raw uint8 images and labels written."""
    rng = np.random.default_rng(seed)
    raw = rng.integers(0, 256, (n, size, size), dtype=np.uint8)
    raw[0] = 0
    raw[1] = 255
    labels = rng.integers(0, 10, n, dtype=np.uint8) if labels is None else labels
    folder.mkdir(parents=True, exist_ok=True)
    write_idx(folder / f"{STEMS[split]}-images-idx3-ubyte{suffix}", raw)
    write_idx(folder / f"{STEMS[split]}-labels-idx1-ubyte{suffix}", labels)
    return raw, labels


def quiet_load(*args, **kwargs):
    """``load`` of a non-standard file named like MNIST's: its ChecksumWarning is expected."""
    with pytest.warns(ChecksumWarning, match="not the standard MNIST file"):
        return kl.datasets.load(*args, **kwargs)


# ------------------------------------------------------------------------------ real MNIST
@pytest.mark.parametrize("split", ["train", "test"])
def test_real_mnist(mnist_dir, split):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ChecksumWarning)  # the shared files are the standard ones
        x, y = kl.datasets.load("mnist", split, data_dir=mnist_dir)
    n = MNIST_COUNTS[split]
    assert x.shape == (n, 32, 32, 1) and x.dtype == np.float32 and x.flags.c_contiguous
    assert y.shape == (n,) and y.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(y, minlength=10), MNIST_HISTOGRAMS[split])
    assert x.min() == -1.0 and x.max() == 1.0
    border = np.ones((32, 32), bool)
    border[2:30, 2:30] = False
    assert np.all(x[:, border, 0] == -1), "the 2-pixel padding is -1"
    assert np.all(x[:, 2:30, 2:30].reshape(n, -1).max(axis=1) > 0), "every digit has ink"


def test_real_mnist_file_checksums(mnist_dir):
    """The uncompressed files' md5s are the published ones (and the loader's table agrees)."""
    readme = mnist_dir / "README.md"
    if readme.exists():
        text = readme.read_text()
        assert dict(re.findall(r"\| (\S+)\.gz \|[^|]*\| ([0-9a-f]{32}) \|", text)) == MNIST_MD5
    for stem, md5 in MNIST_MD5.items():
        data = gzip.decompress((mnist_dir / f"{stem}.gz").read_bytes())
        assert hashlib.md5(data).hexdigest() == md5, stem


def test_real_mnist_readme_histograms(mnist_dir):
    if not (mnist_dir / "README.md").exists():
        pytest.skip(f"no README.md beside the MNIST files in {mnist_dir}")
    text = (mnist_dir / "README.md").read_text()
    for split, word in (("train", "Train"), ("test", "Test")):
        numbers = re.search(rf"{word}-label histogram[^:]*: ([\d, ]+)", text).group(1)
        assert [int(v) for v in numbers.split(",")] == MNIST_HISTOGRAMS[split]


def test_real_mnist_is_refused_as_fashion_mnist(mnist_dir):
    with pytest.raises(ValueError, match="is the MNIST digits file, not Fashion-MNIST"):
        kl.datasets.load("fashion_mnist", "test", data_dir=mnist_dir)


# ------------------------------------------------------------------------ small IDX files
@pytest.mark.parametrize("suffix", [".gz", ""])
def test_mnist_format_preprocessing(tmp_path, suffix):
    raw, labels = write_mnist_folder(tmp_path, split="test", suffix=suffix)
    x, y = quiet_load("mnist", "test", data_dir=tmp_path)
    assert x.shape == (6, 32, 32, 1) and x.dtype == np.float32
    np.testing.assert_array_equal(x[:, 2:30, 2:30, 0], raw.astype(np.float32) / 127.5 - 1)
    assert np.all(x[:, :2] == -1) and np.all(x[:, 30:] == -1)
    assert np.all(x[:, :, :2] == -1) and np.all(x[:, :, 30:] == -1)
    assert np.all(x[0] == -1) and np.all(x[1, 2:30, 2:30] == 1)
    np.testing.assert_array_equal(y, labels)
    assert y.dtype == np.int64


def test_fashion_mnist_has_no_checksum_warning(tmp_path):
    raw, labels = write_mnist_folder(tmp_path / "fashion_mnist")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x, y = kl.datasets.load("fashion_mnist", data_dir=tmp_path)
    np.testing.assert_array_equal(x[:, 2:30, 2:30, 0], raw / np.float32(127.5) - 1)
    np.testing.assert_array_equal(y, labels)


def test_search_order_subfolder_then_folder_and_env(tmp_path, monkeypatch):
    write_mnist_folder(tmp_path, n=3)  # fashion-like files in the root
    write_mnist_folder(tmp_path / "fashion_mnist", n=4)
    assert len(kl.datasets.load("fashion_mnist", data_dir=tmp_path)[0]) == 4  # <name>/ first
    assert len(quiet_load("mnist", data_dir=tmp_path)[0]) == 3  # no mnist/: the root
    other = tmp_path / "other"
    write_mnist_folder(other / "mnist", n=5)
    monkeypatch.setenv("KERAS_LATENT_DATA", f"{tmp_path / 'missing'}:{other}")
    assert len(quiet_load("mnist")[0]) == 5
    assert len(quiet_load("mnist", data_dir=tmp_path)[0]) == 3  # data_dir wins over the env


def test_loading_does_not_write(tmp_path):
    write_mnist_folder(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    quiet_load("MNIST", data_dir=str(tmp_path))  # names are case-insensitive; str paths work
    assert sorted(p.name for p in tmp_path.iterdir()) == before


# -------------------------------------------------------------------------------- lines
def test_lines_test_split_is_the_fixed_test_set():
    x, y = kl.datasets.load("lines", "test")
    expected, angles = lines.test_set()
    np.testing.assert_array_equal(x, expected)
    np.testing.assert_array_equal(y, lines.angle_labels(angles))


def test_lines_train_split_is_a_fixed_seeded_draw(monkeypatch):
    monkeypatch.setattr(images, "LINES_TRAIN_SIZE", 4100)  # crosses a 4096 drawing chunk
    x, y = kl.datasets.load("lines", "train")
    angles = np.random.default_rng(images.LINES_TRAIN_SEED).uniform(0, 2 * math.pi, 4100)
    assert x.shape == (4100, 32, 32, 1) and y.shape == (4100,) and y.dtype == np.int64
    np.testing.assert_array_equal(x[4090:], lines.draw(angles[4090:]))
    np.testing.assert_array_equal(y, lines.angle_labels(angles))


# ---------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("name", ["mnits", "", None, 3])
def test_unknown_name_lists_the_valid_ones(name):
    with pytest.raises(ValueError, match="valid names: mnist, fashion_mnist, svhn, cifar10"):
        kl.datasets.load(name)


@pytest.mark.parametrize(("name", "split"), [("mnist", "validation"), ("svhn", "extra")])
def test_unknown_split_lists_the_valid_ones(name, split):
    with pytest.raises(ValueError, match=f"unknown split '{split}'.*valid splits: train, test"):
        kl.datasets.load(name, split)


def test_nothing_found_names_files_folders_and_remedies(tmp_path, monkeypatch):
    (tmp_path / "mnist").mkdir()
    monkeypatch.setenv("KERAS_LATENT_DATA", str(tmp_path))
    with pytest.raises(FileNotFoundError) as error:
        kl.datasets.load("mnist", "test")
    message = str(error.value)
    for part in [
        "t10k-images-idx3-ubyte[.gz] + t10k-labels-idx1-ubyte[.gz]",
        "mnist_test.npz",
        f"{tmp_path / 'mnist'}, {tmp_path}",
        "TensorFlow Datasets",
        "KERAS_LATENT_DATA",
        "download=True",
        "yann.lecun.com",
    ]:
        assert part in message, part
    monkeypatch.delenv("KERAS_LATENT_DATA")
    with pytest.raises(FileNotFoundError, match=r"\$KERAS_LATENT_DATA is not set"):
        kl.datasets.load("mnist", "test")


def test_missing_data_dir(tmp_path):
    with pytest.raises(FileNotFoundError, match="data_dir .*nowhere is not a folder"):
        kl.datasets.load("mnist", data_dir=tmp_path / "nowhere")


def test_images_without_labels_name_the_missing_file(tmp_path):
    write_mnist_folder(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match=r"but not train-labels-idx1-ubyte\[.gz\]"):
        kl.datasets.load("mnist", data_dir=tmp_path)


def test_wrong_magic_number(tmp_path):
    write_mnist_folder(tmp_path)
    labels = tmp_path / "train-labels-idx1-ubyte.gz"
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(labels.read_bytes())
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte.gz has IDX magic number"):
        kl.datasets.load("mnist", data_dir=tmp_path)


def test_truncated_images(tmp_path):
    write_mnist_folder(tmp_path, suffix="")
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ValueError, match="train-images-idx3-ubyte is truncated"):
        kl.datasets.load("mnist", data_dir=tmp_path)


def test_label_count_mismatch_names_both_files(tmp_path):
    write_mnist_folder(tmp_path, labels=np.zeros(5, np.uint8))
    with pytest.raises(ValueError, match=r"labels-idx1-ubyte.gz holds 5 labels but .*images"):
        quiet_load("mnist", data_dir=tmp_path)


def test_labels_out_of_range(tmp_path):
    write_mnist_folder(tmp_path, labels=np.array([0, 1, 2, 3, 4, 10], np.uint8))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 10\)"):
        quiet_load("mnist", data_dir=tmp_path)


def test_wrong_image_size(tmp_path):
    write_mnist_folder(tmp_path, size=32)
    with pytest.raises(ValueError, match="holds images of 32x32 pixels; mnist images are 28x28"):
        quiet_load("mnist", data_dir=tmp_path)
