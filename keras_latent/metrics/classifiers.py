"""The small MNIST classifier that keras-latent trains and ships, for feature distances.

A CNN on the project's image format (32x32x1 in [-1, 1], MNIST padded with -1):
``[conv3x3(16) x2, maxpool] -> [conv3x3(32) x2, maxpool] -> conv3x3(64), maxpool ->
flatten -> dense(64, relu) "features" -> dense(10) logits``, ReLU after every convolution.
Its 64 penultimate features feed the Fréchet classifier distance
(:mod:`keras_latent.metrics.frechet`).

The weights (``weights/mnist_classifier.weights.h5``) are trained by
``benchmarks/train_mnist_classifier.py`` on the 60,000 MNIST training images; the JSON beside
them records their sha256, their measured test accuracy and how they were trained. Loading
checks the sha256, so a corrupt or replaced file fails with a clear error.
"""

import hashlib
from pathlib import Path

import keras

from keras_latent.files import read_json

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
MNIST_WEIGHTS = WEIGHTS_DIR / "mnist_classifier.weights.h5"
MNIST_INFO = WEIGHTS_DIR / "mnist_classifier.json"
FEATURES_LAYER = "features"
RETRAIN = "python benchmarks/train_mnist_classifier.py"


def build_mnist_classifier(num_classes=10, seed=None):
    """The classifier's architecture, untrained: images (n, 32, 32, 1) -> logits (n, 10)."""

    def conv(filters, name):
        return keras.layers.Conv2D(
            filters,
            3,
            padding="same",
            data_format="channels_last",
            activation="relu",
            kernel_initializer=keras.initializers.HeNormal(seed=seed),
            name=name,
        )

    inputs = keras.Input((32, 32, 1), name="images")
    y = conv(16, "conv1a")(inputs)
    y = conv(16, "conv1b")(y)
    y = keras.layers.MaxPooling2D(2, data_format="channels_last", name="pool1")(y)
    y = conv(32, "conv2a")(y)
    y = conv(32, "conv2b")(y)
    y = keras.layers.MaxPooling2D(2, data_format="channels_last", name="pool2")(y)
    y = conv(64, "conv3")(y)
    y = keras.layers.MaxPooling2D(2, data_format="channels_last", name="pool3")(y)
    y = keras.layers.Flatten(data_format="channels_last", name="flatten")(y)
    y = keras.layers.Dense(
        64,
        activation="relu",
        kernel_initializer=keras.initializers.HeNormal(seed=seed),
        name=FEATURES_LAYER,
    )(y)
    y = keras.layers.Dropout(0.3, seed=seed, name="dropout")(y)
    outputs = keras.layers.Dense(num_classes, name="logits")(y)
    return keras.Model(inputs, outputs, name="mnist_classifier")


def sha256(path):
    """Hex sha256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_mnist_classifier(weights_path=MNIST_WEIGHTS, info_path=MNIST_INFO):
    """The shipped MNIST classifier with its trained weights, after checking their sha256.

    Raises ``FileNotFoundError`` if the weights or their JSON are missing, ``ValueError`` if
    the sha256 differs from the recorded one or the file cannot be loaded.
    """
    weights_path, info_path = Path(weights_path), Path(info_path)
    for path in (weights_path, info_path):
        if not path.exists():
            raise FileNotFoundError(
                f"{path} does not exist: the MNIST classifier ships with keras-latent; "
                f"reinstall the package or retrain it with `{RETRAIN}`"
            )
    info = read_json(info_path)
    expected = info.get("sha256")
    actual = sha256(weights_path)
    if actual != expected:
        raise ValueError(
            f"{weights_path} is corrupt or was replaced: its sha256 is {actual}, but {info_path} "
            f"records {expected}; reinstall the package or retrain with `{RETRAIN}`"
        )
    model = build_mnist_classifier()
    try:
        model.load_weights(weights_path)
    except Exception as error:
        raise ValueError(f"{weights_path} could not be loaded: {error}") from error
    return model


def mnist_features(classifier=None):
    """Images (n, 32, 32, 1) in [-1, 1] -> the classifier's 64 penultimate features (ReLU)."""
    classifier = classifier or load_mnist_classifier()
    return keras.Model(
        classifier.inputs, classifier.get_layer(FEATURES_LAYER).output, name="mnist_features"
    )
