"""keras_latent.evaluation: evaluate's metrics with each image encoded once, and the preset's
own latent sampler used for the Fréchet distance only where it is the recipe's, fitted on the
codes of these weights (and then it gives the distance a fresh fit gives)."""

import numpy as np
import pytest

from keras_latent import evaluation, sampling
from keras_latent.models import Autoencoder
from tests.helpers import TINY, write_mnist

pytestmark = pytest.mark.backend


def tiny_model():
    return Autoencoder(**TINY, num_classes=10, seed=1)


def count_encodes(model):
    calls = []
    encode = model.encode
    model.encode = lambda x, *a, **kw: calls.append(len(x)) or encode(x, *a, **kw)
    return calls


def shipped_record(images, weights="a" * 64):
    return {"dataset": "mnist", "split": "train", "images": images, "weights_sha256": weights,
            **sampling.PRESET_RECIPE}  # fmt: skip


def test_test_scores_encode_once_and_are_the_reconstruction_and_probe_scores(random_images):
    model = tiny_model()
    x, y = random_images(20), np.arange(20) % 10
    calls = count_encodes(model)
    scores, codes = evaluation.test_scores(model, x, y, batch_size=8)
    assert calls == [20] and codes.shape == (20, *model.latent_shape)
    expected = np.mean(np.square(model.reconstruct(x).astype(np.float64) - x))
    np.testing.assert_allclose(scores["reconstruction_mse"], expected, rtol=1e-5)
    kernel, bias = model.probe.get_weights()
    logits = codes.reshape(20, -1) @ kernel + bias
    assert scores["probe_accuracy"] == np.mean(logits.argmax(axis=1) == y)
    assert "probe_accuracy" not in evaluation.test_scores(model, x)[0]  # no labels


def test_the_shipped_sampler_is_used_only_for_its_recipe_weights_and_codes(random_images):
    model = tiny_model()
    codes = model.encode(random_images(40))
    sampler = sampling.make_sampler(**sampling.PRESET_RECIPE).fit(codes)
    model.latent_sampler = sampler
    record, sha = shipped_record(40), "a" * 64
    assert evaluation.shipped_sampler(model, record, sha, "mnist", 40) is sampler
    for changed in ({"weights_sha256": "b" * 64}, {"images": 39}, {"split": "test"},
                    {"dataset": "fashion_mnist"}):  # fmt: skip
        assert evaluation.shipped_sampler(model, {**record, **changed}, sha, "mnist", 40) is None
    assert evaluation.shipped_sampler(model, record, sha, "mnist", 41) is None
    assert evaluation.shipped_sampler(model, record, None, "mnist", 40) is None
    assert evaluation.shipped_sampler(model, None, sha, "mnist", 40) is None
    model.latent_sampler = sampling.make_sampler("gmm", n_components=3, seed=0).fit(codes)
    assert evaluation.shipped_sampler(model, shipped_record(40), sha, "mnist", 40) is None
    model.latent_sampler = None
    assert evaluation.shipped_sampler(model, record, sha, "mnist", 40) is None


def test_the_shipped_sampler_gives_the_distance_of_a_fresh_fit(random_images, monkeypatch):
    """Reusing the preset's sampler is exact: EM with seed 0 on the same codes is the same
    mixture, and the draws (seed 0) and their decoding are the same."""
    model = tiny_model()
    x_test, codes = random_images(30, seed=2), model.encode(random_images(50, seed=1))
    said = []
    fresh = evaluation.frechet_metrics(model, x_test, codes, log=said.append)
    assert "fitting a Gaussian mixture (10 components, seed 0) on 50 train codes" in said[0]
    assert fresh["frechet_sampler"].endswith("fitted on the train codes")
    model.latent_sampler = sampling.make_sampler(**sampling.PRESET_RECIPE).fit(codes)

    def refuse(*args):
        raise AssertionError("the shipped sampler was fitted again")

    monkeypatch.setattr(sampling.GaussianMixtureSampler, "_fit", refuse)
    shipped = evaluation.frechet_metrics(model, x_test, codes, shipped_record(50), "a" * 64)
    assert shipped["frechet_classifier_distance"] == fresh["frechet_classifier_distance"] > 0
    assert "the preset's own" in shipped["frechet_sampler"]


@pytest.mark.filterwarnings("ignore::keras_latent.datasets.formats.ChecksumWarning")
def test_image_metrics_encode_each_image_once_and_time_each_step(tmp_path, monkeypatch):
    from keras_latent.metrics import representation

    data = write_mnist(tmp_path, n_train=24, n_test=16)
    model = tiny_model()
    calls = count_encodes(model)
    seen = {}
    monkeypatch.setattr(
        representation,
        "clustering_accuracy_from_latents",
        lambda z, y, zt, yt, n_init: seen.update(shapes=(z.shape, zt.shape), n_init=n_init) or 0.5,
    )
    metrics, seconds = evaluation.image_metrics(
        model, "mnist", data, probe_epochs=1, kmeans_restarts=3, log=lambda line: None
    )
    assert calls == [16, 24]  # the test images, then the train images: once each
    assert seen == {"shapes": ((24, *model.latent_shape), (16, *model.latent_shape)), "n_init": 3}
    assert set(metrics) == {"test_images", "reconstruction_mse", "probe_accuracy",
                            "linear_probe_accuracy", "clustering_accuracy",
                            "frechet_classifier_distance", "frechet_sampler"}  # fmt: skip
    assert metrics["test_images"] == 16 and metrics["clustering_accuracy"] == 0.5
    assert set(seconds) == {"load data", "test images", "encode train images", "linear probe",
                            "clustering", "Frechet distance"}  # fmt: skip
