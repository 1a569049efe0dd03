"""TensorBoard logs of training runs (``keras-latent train --log-dir``), read back from their
event files: tags, and steps that continue across a resume."""

from collections import defaultdict

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_latent import cli, tensorboard, training
from keras_latent.datasets import ArrayStream
from keras_latent.models import Autoencoder
from tests.helpers import TINY, write_mnist

# The tiny generated MNIST folders are not the standard files: loading them warns so.
pytestmark = pytest.mark.filterwarnings("ignore::keras_latent.datasets.formats.ChecksumWarning")


def read_events(folder):
    """``{tag: {step: value}}`` of the event files in ``folder`` (every file, any order):
    scalars as floats, images as their ``(height, width)``."""
    tags = defaultdict(dict)
    for path in sorted(folder.glob("events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                plugin = value.metadata.plugin_data.plugin_name
                array = tf.make_ndarray(value.tensor)
                if plugin == "images":  # [width, height, encoded PNG...] as strings
                    tags[value.tag][event.step] = (int(array[1]), int(array[0]))
                else:
                    tags[value.tag][event.step] = float(array)
    return dict(tags)


def event_files(folder):
    return len(list(folder.glob("events.out.tfevents.*")))


@pytest.mark.backend
def test_train_logs_continue_across_a_resume(tmp_path, capsys):
    """A run of 4 steps (chunks of 2, evaluations and images every 2), then resumed to 8: the
    scalars, evaluations and images of both segments lie on one axis of global steps."""
    data = write_mnist(tmp_path / "data")
    logs, run = tmp_path / "logs", tmp_path / "run"
    options = ["--data-dir", str(data), "--steps-per-epoch", "2", "--batch-size", "8",
               "--checkpoint-every", "2", "--eval-every", "2", "--output", str(run),
               "--log-dir", str(logs), "--log-images-every", "2"]  # fmt: skip
    assert cli.main(["train", "ae_mnist", "--steps", "4", *options]) == 0
    first = read_events(logs / "train")
    assert set(first["epoch_loss"]) == {2, 4}
    assert cli.main(["train", "ae_mnist", "--steps", "8", *options]) == 0
    capsys.readouterr()

    scalars = read_events(logs / "train")
    for name in ("loss", "reconstruction", "probe_loss", "probe_accuracy", "learning_rate",
                 "images_per_second"):  # fmt: skip
        assert set(scalars[f"epoch_{name}"]) == {2, 4, 6, 8}, name  # resumed past step 4
    assert not any(tag.startswith(("epoch_batch_check", "batch_")) for tag in scalars)
    assert scalars["epoch_learning_rate"][6] == pytest.approx(1e-4)
    assert all(v > 0 for v in scalars["epoch_images_per_second"].values())
    state = training.read_checkpoint(run)
    np.testing.assert_allclose(
        [scalars["epoch_loss"][s] for s in (2, 4, 6, 8)], state["history"]["loss"], rtol=1e-5
    )
    assert event_files(logs / "train") == 2  # one per segment, not one per chunk

    evaluations = read_events(logs / "validation")
    for name in ("probe_accuracy", "reconstruction_mse"):
        assert set(evaluations[f"evaluation_{name}"]) == {2, 4, 6, 8}
        np.testing.assert_allclose(
            [evaluations[f"evaluation_{name}"][s] for s in (2, 4, 6, 8)],
            state["evaluations"][name],
            rtol=1e-5,
        )

    images = read_events(logs / "images")
    assert set(images) == {"reconstructions", "interpolations"}
    for tag in images:
        assert set(images[tag]) == {0, 2, 4, 6, 8}
    size = 32  # ae_mnist's 32x32 images
    assert images["reconstructions"][8] == (2 * size, tensorboard.FIXED_IMAGES * size)
    rows = tensorboard.FIXED_IMAGES // 2
    assert images["interpolations"][8] == (rows * size, tensorboard.INTERPOLATION_STEPS * size)


@pytest.mark.backend
def test_batch_summaries_are_numbered_by_the_global_step(tmp_path, random_images):
    """With an integer ``update_freq``, the running means every N global steps: two ``train``
    calls (a run and its resume) give one axis of steps; ``--log-images-every 0``-like
    callbacks are absent."""
    stream = ArrayStream(random_images(16), batch_size=4, seed=0)
    model = Autoencoder(**TINY, seed=1)
    model.compile()
    board = tensorboard.TensorBoard(tmp_path / "logs", batch_size=4, update_freq=2)
    training.train(model, stream, tmp_path / "run", steps=3, steps_per_epoch=2, verbose=0,
                   callbacks=[board])  # fmt: skip
    board.close()

    resumed = Autoencoder(**TINY, seed=1)
    resumed.compile()
    board = tensorboard.TensorBoard(tmp_path / "logs", batch_size=4, update_freq=2)
    state = training.read_checkpoint(tmp_path / "run")
    training.train(resumed, stream, tmp_path / "run", steps=6, steps_per_epoch=2, verbose=0,
                   state=state, callbacks=[board])  # fmt: skip
    board.close()

    scalars = read_events(tmp_path / "logs" / "train")
    for name in ("loss", "reconstruction", "learning_rate", "images_per_second"):
        assert set(scalars[f"batch_{name}"]) == {2, 4, 6}, name
    assert set(scalars["epoch_loss"]) == {2, 3, 5, 6}  # chunks end at these global steps


def test_tile_lays_out_a_grid_in_unit_range():
    grid = np.stack([np.full((3, 2, 2, 1), -1.0), np.full((3, 2, 2, 1), 3.0)])
    image = tensorboard.tile(grid)
    assert image.shape == (1, 4, 6, 1)
    assert (image[0, :2] == 0).all() and (image[0, 2:] == 1).all()  # mapped and clipped


def test_a_log_dir_inside_the_run_folder_is_refused(tmp_path, capsys):
    run = tmp_path / "run"
    code = cli.main(["train", "ae_lines", "--steps", "2", "--output", str(run), "--log-dir",
                     str(run / "logs")])  # fmt: skip
    assert code == 2 and "lies inside the run folder" in capsys.readouterr().err
    assert not run.exists()
    assert cli.main(["train", "ae_lines", "--log-images-every", "-1"]) == 2
    assert "--log-images-every must be >= 0" in capsys.readouterr().err
    assert cli.main(["train", "ae_lines", "--log-images-every", "5"]) == 2
    assert "--log-images-every needs --log-dir" in capsys.readouterr().err


def test_fixed_images_span_batches_smaller_than_them(random_images):
    """With batches of 3, the 8 fixed images are those of steps 0, 1 and 2, in order."""
    x = random_images(12)
    images = tensorboard.fixed_images(ArrayStream(x, batch_size=3, shuffle=False))
    np.testing.assert_array_equal(images, x[:8])


def test_run_logs_without_a_log_dir_adds_nothing():
    evaluate = object()
    with tensorboard.run_logs(None, None, None, 64, 100, evaluate) as (callbacks, logged):
        assert callbacks == [] and logged is evaluate
    assert keras.callbacks.TensorBoard in type.mro(tensorboard.TensorBoard)


def test_summaries_are_those_of_the_tensorboard_package(tmp_path):
    """Where the tensorboard package is installed, its scalar and image summaries and ours are
    the same bytes (metadata and tensor); without it (as here) this is skipped."""
    scalar_v2 = pytest.importorskip("tensorboard.plugins.scalar.summary_v2")
    image_v2 = pytest.importorskip("tensorboard.plugins.image.summary_v2")
    image = np.random.default_rng(0).uniform(0, 1, (1, 8, 12, 1)).astype("float32")
    written = {}
    for name, module in (("ours", tensorboard.SUMMARY), ("package", None)):
        scalar = module.scalar if module else scalar_v2.scalar
        picture = module.image if module else image_v2.image
        writer = tf.summary.create_file_writer(str(tmp_path / name))
        with writer.as_default():
            scalar("loss", 0.5, step=3)
            picture("reconstructions", image, step=3)
        writer.close()
        written[name] = [
            (value.tag, value.metadata.SerializeToString(), value.tensor.SerializeToString())
            for path in (tmp_path / name).glob("events.out.tfevents.*")
            for event in tf.compat.v1.train.summary_iterator(str(path))
            for value in event.summary.value
        ]
    assert written["ours"] == written["package"] and len(written["ours"]) == 2
