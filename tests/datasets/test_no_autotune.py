"""No tf.data autotune stalls: the project's streams reach TensorFlow's ``fit`` as pipelines
with autotuning off, and ``Autoencoder.fit`` turns it off on a ``tf.data.Dataset``.
Structure only; ``benchmarks/fit_stall.py`` measures the timings."""

import keras
import numpy as np
import pytest

from keras_latent import training
from keras_latent.datasets.feeding import STREAM_WORKERS, ArrayStream, without_autotune
from keras_latent.datasets.lines import LinesStream
from keras_latent.models import Autoencoder
from tests.helpers import TINY


def streams():
    x = np.zeros((8, 32, 32, 1), "float32")
    array_stream = ArrayStream(x, batch_size=4)
    return {
        "array": array_stream,
        "lines": LinesStream(batch_size=4, steps_per_epoch=2),
        "steps": training.StepStream(array_stream, start=0, chunk=2),
    }


def test_streams_default_to_threaded_workers():
    assert STREAM_WORKERS > 1
    for stream in streams().values():
        assert stream.workers == STREAM_WORKERS
        assert not stream.use_multiprocessing
    assert ArrayStream(np.zeros((2, 1)), workers=1).workers == 1  # still the caller's choice


def test_keras_serves_the_streams_without_autotune_on_tensorflow():
    tf = pytest.importorskip("tensorflow")
    from keras.src.trainers.data_adapters.py_dataset_adapter import PyDatasetAdapter

    for name, stream in streams().items():
        dataset = PyDatasetAdapter(stream).get_tf_dataset()
        assert isinstance(dataset, tf.data.Dataset)
        assert dataset.options().autotune.enabled is False, name
    # The raw single-worker pipeline, for contrast, autotunes.
    single = PyDatasetAdapter(ArrayStream(np.zeros((8, 1)), batch_size=4, workers=1))
    assert single.get_tf_dataset().options().autotune.enabled is not False


def test_without_autotune():
    x = np.zeros((4, 2))
    assert without_autotune(x) is x
    tf = pytest.importorskip("tensorflow")
    dataset = tf.data.Dataset.from_tensor_slices(x).batch(2).prefetch(tf.data.AUTOTUNE)
    assert dataset.options().autotune.enabled is not False
    assert without_autotune(dataset).options().autotune.enabled is False


def test_autoencoder_fit_turns_autotune_off_on_a_tf_dataset(monkeypatch, random_images):
    tf = pytest.importorskip("tensorflow")
    seen = {}

    def fake_fit(self, x=None, y=None, *args, **kwargs):
        seen["x"], seen["validation"] = x, kwargs.get("validation_data")

    monkeypatch.setattr(keras.Model, "fit", fake_fit)
    monkeypatch.setattr(keras.Model, "evaluate", fake_fit)
    x = tf.data.Dataset.from_tensor_slices(random_images(4)).batch(2)
    model = Autoencoder(**TINY, seed=0)
    model.fit(x, validation_data=x)
    assert seen["x"].options().autotune.enabled is False
    assert seen["validation"].options().autotune.enabled is False
    model.evaluate(x)
    assert seen["x"].options().autotune.enabled is False
