"""The image metrics of ``keras-latent evaluate``, with every image encoded once.

On a labelled image dataset's test split (and, for the representation metrics, its train split):

- ``reconstruction_mse``: ``mean((x - decode(encode(x)))^2)`` over the test images;
- ``probe_accuracy``: the test accuracy of the linear probe trained alongside the autoencoder
  (models trained with labels);
- ``linear_probe_accuracy``, ``clustering_accuracy``: :mod:`keras_latent.metrics.representation`
  on the codes of the train and test images (frozen-latent probe; K-means on the whitened
  codes, best of ``kmeans_restarts``);
- ``frechet_classifier_distance`` (MNIST): :mod:`keras_latent.metrics.frechet` between the test
  images and as many decoded draws (seed 0, clipped to [-1, 1]) of the latent sampler of
  :data:`keras_latent.sampling.PRESET_RECIPE` fitted on the train codes. A preset that ships
  that very sampler (fitted on the codes of the same weights and the whole train split, as its
  ``metadata.json`` records) uses it as is: EM with a fixed seed on the same codes gives the
  same mixture, so the distance is the same number, in seconds instead of the minutes a
  full-covariance fit on 60,000 codes of 256 numbers takes on 2 cores.

Each step's wall time is returned beside the metrics.
"""

import time
from contextlib import contextmanager

import numpy as np

SAMPLES_SEED = 0
"""Seed of the draws the Fréchet distance decodes (``sampler.sample(n, seed=0)``)."""
BATCH_SIZE = 256


def probe_accuracy(model, z, y, batch_size=1024):
    """Accuracy of the model's in-training linear probe on codes ``z`` (``model.encode``) of
    images labelled ``y``; None without a probe or labels."""
    import keras

    probe = getattr(model, "probe", None)
    if probe is None or y is None:
        return None
    z = np.asarray(z).reshape(len(z), -1)
    logits = np.concatenate(
        [
            keras.ops.convert_to_numpy(probe(z[i : i + batch_size]))
            for i in range(0, len(z), batch_size)
        ]
    )
    return float(np.mean(np.argmax(logits, axis=1) == y))


def test_scores(model, x, y=None, batch_size=BATCH_SIZE):
    """``(scores, codes)``: ``{"reconstruction_mse"[, "probe_accuracy"]}`` of images ``x``
    (labels ``y`` or None) and their codes ``model.encode(x)``, each image encoded once."""
    codes = model.encode(x, batch_size)
    total = 0.0
    for i in range(0, len(x), 8 * batch_size):  # decode in slices: bounded memory
        decoded = model.decode(codes[i : i + 8 * batch_size], batch_size)
        total += float(np.sum(np.square(decoded - x[i : i + 8 * batch_size]), dtype=np.float64))
    scores = {"reconstruction_mse": total / x.size}
    accuracy = probe_accuracy(model, codes, y)
    if accuracy is not None:
        scores["probe_accuracy"] = accuracy
    return scores, codes


def shipped_sampler(model, record, weights_sha256, data, train_images):
    """``model.latent_sampler`` where it is :data:`~keras_latent.sampling.PRESET_RECIPE` fitted
    on the codes of these weights (``weights_sha256``) and of all ``train_images`` images of
    ``data``'s train split, as the preset's sampler ``record`` (``metadata["weights"]
    ["sampler"]``) says; else None (the caller fits one)."""
    from keras_latent import sampling

    sampler = getattr(model, "latent_sampler", None)
    if sampler is None or not isinstance(record, dict) or weights_sha256 is None:
        return None
    recipe = sampling.make_sampler(**sampling.PRESET_RECIPE)
    same = (
        sampler.kind == recipe.kind
        and sampler.get_config() == recipe.get_config()
        and sampler.fitted_codes == train_images
        and record.get("weights_sha256") == weights_sha256
        and record.get("dataset") == data
        and record.get("split") == "train"
        and record.get("images") == train_images
    )
    return sampler if same else None


class Timer:
    """Wall seconds of named steps: ``with timer("encode"): ...``; ``timer.seconds`` dict."""

    def __init__(self):
        self.seconds = {}

    @contextmanager
    def __call__(self, step):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[step] = round(self.seconds.get(step, 0.0) + time.perf_counter() - start, 2)


def load_test_split(data, data_dir=None):
    """``(images, labels or None)`` of ``data``'s test split (``keras_latent.presets.splits``:
    CelebA's is all of it), from ``data_dir``."""
    from keras_latent import datasets, presets

    return datasets.load(data, presets.splits(data)[1], data_dir=data_dir)


def image_metrics(
    model,
    data,
    data_dir=None,
    probe_epochs=10,
    kmeans_restarts=1000,
    sampler_record=None,
    weights_sha256=None,
    log=print,
    test=None,
):
    """Every metric of the module docstring on ``data``'s splits (``keras_latent.datasets``
    from ``data_dir``): returns ``(metrics, seconds)``, the second the wall time of each step.
    ``sampler_record`` and ``weights_sha256`` (from a preset's ``metadata.json``) let a shipped
    sampler be used as is (:func:`shipped_sampler`); ``log`` gets one line per step; ``test``:
    the test split's ``(images, labels or None)`` where the caller has loaded it already."""
    from keras_latent import datasets, presets
    from keras_latent.metrics import representation

    timer = Timer()
    if test is None:
        with timer("load data"):
            test = load_test_split(data, data_dir)
    x_test, y_test = test
    with timer("test images"):
        metrics, z_test = test_scores(model, x_test, y_test)
    metrics = {"test_images": int(len(x_test)), **metrics}
    if y_test is None and data != "mnist":  # nothing below to measure
        return metrics, timer.seconds
    with timer("load data"):
        x_train, y_train = datasets.load(data, presets.splits(data)[0], data_dir=data_dir)
    with timer("encode train images"):
        z_train = model.encode(x_train, BATCH_SIZE)
    del x_train
    if y_test is not None and y_train is not None:
        log(f"frozen-latent probe: {probe_epochs} epochs on {len(z_train):,} codes")
        with timer("linear probe"):
            metrics["linear_probe_accuracy"] = float(
                representation.linear_probe_accuracy_from_latents(
                    z_train, y_train, z_test, y_test, epochs=probe_epochs
                )
            )
        log(f"K-means: {kmeans_restarts} restarts on {len(z_train):,} whitened codes")
        with timer("clustering"):
            metrics["clustering_accuracy"] = float(
                representation.clustering_accuracy_from_latents(
                    z_train, y_train, z_test, y_test, n_init=kmeans_restarts
                )
            )
    if data == "mnist":
        with timer("Frechet distance"):
            metrics.update(
                frechet_metrics(model, x_test, z_train, sampler_record, weights_sha256, log)
            )
    return metrics, timer.seconds


def frechet_metrics(model, x_test, z_train, sampler_record=None, weights_sha256=None, log=print):
    """``{"frechet_classifier_distance", "frechet_sampler"}``: the MNIST Fréchet classifier
    distance between ``x_test`` and as many decoded draws of the preset's sampler (the shipped
    one when :func:`shipped_sampler` accepts it, else one fitted on the train codes
    ``z_train``), clipped to [-1, 1] (decoded draws may overshoot)."""
    from keras_latent import sampling
    from keras_latent.metrics import frechet

    sampler = shipped_sampler(model, sampler_record, weights_sha256, "mnist", len(z_train))
    if sampler is None:
        sampler = sampling.make_sampler(**sampling.PRESET_RECIPE)
        log(f"fitting a {sampling.describe(sampler)} on {len(z_train):,} train codes "
            "(minutes on 2 cores)")  # fmt: skip
        sampler.fit(z_train)
        source = "fitted on the train codes"
    else:
        log("Fréchet distance: the preset's own latent sampler (the same recipe, these weights)")
        source = "the preset's own, fitted on the train codes"
    draws = sampler.sample(len(x_test), seed=SAMPLES_SEED)
    samples = np.clip(model.decode(draws, BATCH_SIZE), -1.0, 1.0)
    return {
        "frechet_classifier_distance": float(frechet.frechet_distance_images(x_test, samples)),
        "frechet_sampler": f"{sampling.describe(sampler)}, {source}",
    }
