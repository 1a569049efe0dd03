"""The TensorFlow Datasets fallback, on TFDS's own mock data (no files, no network)."""

import contextlib
from unittest import mock

import numpy as np
import pytest

import keras_latent as kl
from keras_latent.datasets import tfds_source
from keras_latent.datasets.preprocess import preprocess

tfds = pytest.importorskip(
    "tensorflow_datasets",
    reason="needs tensorflow-datasets, not in the test extra (pip install tensorflow-datasets)",
)
REAL_LOCATE = tfds_source.locate  # the dataset tests' autouse fixture replaces it
BUILDER = "tensorflow_datasets.core.dataset_builder.DatasetBuilder"


@contextlib.contextmanager
def mocked_tfds(prepared, n=5):
    """TFDS serving ``n`` random examples per split (its mock: no data dir, GCS disabled)."""
    with (
        tfds.testing.mock_data(num_examples=n, policy=tfds.testing.MockPolicy.USE_CODE),
        mock.patch(f"{BUILDER}.is_prepared", return_value=prepared),
        mock.patch(f"{BUILDER}.download_and_prepare") as download,
    ):
        yield download


@pytest.fixture
def real_locate(monkeypatch):
    monkeypatch.setattr(tfds_source, "locate", REAL_LOCATE)


@pytest.mark.parametrize(
    ("name", "split", "tfds_name", "tfds_split"),
    [
        ("mnist", "test", "mnist", "test"),
        ("svhn", "train", "svhn_cropped", "train+extra"),
        ("celeba32", "all", "celeb_a", "train+validation+test"),
    ],
)
def test_prepared_tfds_dataset_is_read_and_preprocessed(
    real_locate, name, split, tfds_name, tfds_split
):
    with mocked_tfds(prepared=True) as download:
        x, y = kl.datasets.load(name, split)
        dataset = tfds.builder(tfds_name).as_dataset(split=tfds_split)
        raw = next(iter(tfds.as_numpy(dataset.batch(100))))  # the same mock examples
    download.assert_not_called()
    np.testing.assert_allclose(x, preprocess(name, raw["image"]), atol=1e-6)
    if name == "celeba32":
        assert y is None
    else:
        np.testing.assert_array_equal(y, raw["label"])
        assert y.dtype == np.int64


def test_unprepared_tfds_dataset_downloads_only_when_asked(real_locate, tmp_path):
    with mocked_tfds(prepared=False) as download:
        with pytest.raises(FileNotFoundError, match="TensorFlow Datasets: 'cifar10' is not"):
            kl.datasets.load("cifar10", data_dir=tmp_path)
        download.assert_not_called()
        x, y = kl.datasets.load("cifar10", data_dir=tmp_path, download=True)
    download.assert_called_once()
    assert x.shape == (5, 32, 32, 3) and y.shape == (5,)


def test_local_files_come_before_tfds(real_locate, tmp_path):
    np.savez(tmp_path / "mnist_test.npz", x=np.zeros((2, 28, 28), np.uint8), y=[0, 1])
    with mocked_tfds(prepared=True):
        x, _ = kl.datasets.load("mnist", "test", data_dir=tmp_path)
    assert len(x) == 2


def test_without_tensorflow_datasets(real_locate, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "tensorflow_datasets", None)
    with pytest.raises(FileNotFoundError, match="not installed"):
        kl.datasets.load("mnist")
