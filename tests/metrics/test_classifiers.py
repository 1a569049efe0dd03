"""The shipped MNIST classifier: integrity checks, accuracy and Fréchet distances on real MNIST."""

import shutil

import numpy as np
import pytest

from keras_latent import datasets
from keras_latent.files import read_json
from keras_latent.metrics import classifiers
from keras_latent.metrics.frechet import frechet_distance_images


@pytest.fixture(scope="module")
def mnist(mnist_dir):
    return {split: datasets.load("mnist", split, data_dir=mnist_dir) for split in ("train", "test")}


def test_shipped_weights_match_their_record():
    info = read_json(classifiers.MNIST_INFO)
    assert classifiers.sha256(classifiers.MNIST_WEIGHTS) == info["sha256"]
    assert info["test_accuracy"] >= 0.99 and info["test_images"] == 10_000
    assert classifiers.MNIST_WEIGHTS.stat().st_size < 600_000
    model = classifiers.build_mnist_classifier()
    assert model.count_params() == info["parameters"]
    assert model.output_shape == (None, 10)
    assert classifiers.mnist_features(model).output_shape == (None, 64)


def test_corrupt_or_missing_weights_are_refused(tmp_path):
    weights = tmp_path / classifiers.MNIST_WEIGHTS.name
    info = tmp_path / classifiers.MNIST_INFO.name
    shutil.copy(classifiers.MNIST_WEIGHTS, weights)
    shutil.copy(classifiers.MNIST_INFO, info)
    assert classifiers.load_mnist_classifier(weights, info).name == "mnist_classifier"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="mnist_classifier.weights.h5 is corrupt or was replaced"):
        classifiers.load_mnist_classifier(weights, info)
    weights.unlink()
    with pytest.raises(FileNotFoundError, match="mnist_classifier.weights.h5 does not exist"):
        classifiers.load_mnist_classifier(weights, info)
    with pytest.raises(FileNotFoundError, match="none.json does not exist"):
        classifiers.load_mnist_classifier(classifiers.MNIST_WEIGHTS, tmp_path / "none.json")


@pytest.mark.backend
def test_accuracy_on_the_whole_mnist_test_set(mnist):
    x, y = mnist["test"]
    logits = classifiers.load_mnist_classifier().predict(x, batch_size=1000, verbose=0)
    accuracy = np.mean(np.argmax(logits, axis=1) == y)
    assert accuracy >= 0.99
    assert accuracy == pytest.approx(read_json(classifiers.MNIST_INFO)["test_accuracy"], abs=2e-4)


def test_frechet_classifier_distance_separates_digits_from_noise(mnist):
    rng = np.random.default_rng(0)
    test = mnist["test"][0][:2000]
    train = mnist["train"][0][rng.choice(60_000, 2000, replace=False)]
    shuffled = test.reshape(2000, -1)[:, rng.permutation(32 * 32)].reshape(test.shape)
    noise = rng.uniform(-1, 1, test.shape).astype("float32")
    features = classifiers.mnist_features()
    same = frechet_distance_images(test, train, feature_model=features)
    assert same < 0.05 * frechet_distance_images(test, shuffled, feature_model=features)
    assert same < 0.05 * frechet_distance_images(test, noise, feature_model=features)


def test_default_feature_model_checks_the_image_format():
    images = np.zeros((4, 28, 28, 1), "float32")
    with pytest.raises(ValueError, match=r"x_real must have shape \(n, 32, 32, 1\)"):
        frechet_distance_images(images, images)


def test_default_feature_model_clips_overshooting_decoder_output(mnist):
    x = mnist["test"][0][:200]
    overshoot = x * 1.2  # in [-1.2, 1.2]
    features = classifiers.mnist_features()
    expected = frechet_distance_images(x, np.clip(overshoot, -1, 1), feature_model=features)
    assert frechet_distance_images(x, overshoot) == pytest.approx(expected, rel=1e-6)
    with pytest.raises(ValueError, match=r"x_fake must lie in \[-1, 1\].*x / 127.5 - 1"):
        frechet_distance_images(x, (x + 1) * 127.5)
